// The demo chat: connects to the WebSocket URL that /config.json names (local or AWS),
// sends {"action":"sendmessage","data":{"text":...}} and renders what the relay broadcasts.
const statusEl = document.getElementById('status');
const messagesEl = document.getElementById('messages');
const form = document.getElementById('composer');
const input = document.getElementById('text');
const sendButton = document.getElementById('send');
const reconnectButton = document.getElementById('reconnect');

let socket;
/** Our connection id, learnt from the echo of a message we sent (it carries our nonce). */
let myConnectionId;
const sentNonces = new Set();

function setState(state, label) {
  statusEl.dataset.state = state;
  statusEl.textContent = label;
  const open = state === 'open';
  input.disabled = !open;
  sendButton.disabled = !open;
  reconnectButton.hidden = state !== 'closed';
}

function render(frame, mine) {
  const item = document.createElement('li');
  const meta = document.createElement('span');
  meta.className = 'meta';
  if (frame.type === 'error') {
    item.className = 'error';
    meta.textContent = `error ${frame.code}`;
    item.append(meta, frame.message);
  } else {
    if (mine) item.className = 'mine';
    const who = frame.from === null ? 'server' : mine ? 'you' : frame.from;
    meta.textContent = `${new Date(frame.ts).toLocaleTimeString()} · ${who}`;
    const data = frame.data;
    const text =
      typeof data === 'object' && data !== null && typeof data.text === 'string' ? data.text : JSON.stringify(data);
    item.append(meta, text);
  }
  item.dataset.type = frame.type;
  messagesEl.append(item);
  messagesEl.scrollTop = messagesEl.scrollHeight;
}

async function connect() {
  setState('connecting', 'connecting…');
  // A new connection gets a new id.
  myConnectionId = undefined;
  sentNonces.clear();
  const { websocketUrl } = await (await fetch('config.json')).json();
  socket = new WebSocket(websocketUrl);
  socket.addEventListener('open', () => setState('open', 'connected'));
  socket.addEventListener('close', () => setState('closed', 'disconnected'));
  socket.addEventListener('message', (event) => {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    // API Gateway's own error frames carry a message but no type.
    if (frame.type === undefined && typeof frame.message === 'string') {
      frame = { type: 'error', code: 'gateway', message: frame.message };
    }
    // Our own messages come back to us too: the nonce we sent tells us our connection id.
    const nonce = frame.type === 'message' ? frame.data?.nonce : undefined;
    if (nonce !== undefined && sentNonces.delete(nonce)) myConnectionId = frame.from;
    render(frame, frame.type === 'message' && frame.from !== null && frame.from === myConnectionId);
  });
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text || socket?.readyState !== WebSocket.OPEN) return;
  const nonce = crypto.randomUUID();
  sentNonces.add(nonce);
  socket.send(JSON.stringify({ action: 'sendmessage', data: { text, nonce } }));
  input.value = '';
  input.focus();
});
const start = () => connect().catch((error) => setState('closed', `cannot connect: ${error.message}`));
reconnectButton.addEventListener('click', start);
start();
