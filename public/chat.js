// The demo chat on protocol v1 (README): signs in with a nickname (a dev token from POST /dev/token under
// npm run dev; on AWS a pasted token or none), connects to the WebSocket URL /config.json names with
// ?token=..., joins and leaves chat:* rooms with subscribe / unsubscribe frames, publishes to the room
// in use, and shows every message with its room and its sender's name, server API messages and errors.
// Plain JS, no build step.

const DEFAULT_ROOMS = ['chat:lobby', 'chat:random'];
/** Every connection is subscribed to it at $connect; POST /messages and sendmessage go there. */
const DEFAULT_CHANNEL = 'default';
/** API Gateway closes a connection after 10 idle minutes; a ping now and then keeps it. */
const PING_EVERY_MS = 5 * 60_000;

const $ = (id) => document.getElementById(id);
const statusEl = $('status');
const whoamiEl = $('whoami');
const reconnectButton = $('reconnect');
const signinForm = $('signin');
const tokenForm = $('token-panel');
const signinError = $('signin-error');
const chatEl = $('chat');
const roomList = $('room-list');
const roomForm = $('room-form');
const messagesEl = $('messages');
const composer = $('composer');
const input = $('text');
const sendButton = $('send');
const activeRoomEl = $('active-room');

/** How this tab signs in: { kind: 'dev', nickname } | { kind: 'token', token } | { kind: 'anonymous' }. */
let credentials;
let websocketUrl;
let socket;
let pingTimer;
let lastId = 0;
/** Frames sent and not yet answered, by their id: { frame, onReply?, onError? }. */
const pending = new Map();
/** channel → 'joined' | 'joining' | 'leaving' | 'left'; the default channel is always joined. */
const rooms = new Map([[DEFAULT_CHANNEL, 'left'], ...DEFAULT_ROOMS.map((room) => [room, 'left'])]);
/** Where the composer publishes. */
let activeRoom = DEFAULT_CHANNEL;
/** Ids of the messages this tab published (from their acks), to mark them as ours. */
const mine = new Set();

// --- signing in -------------------------------------------------------------------------------------

/** A user id from a nickname: the characters a personal channel (user:<id>) may hold. */
function userIdFor(nickname) {
  const id = nickname
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9_\-.@=]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
  return id || 'user';
}

/** A fresh dev token for the nickname; null when the server has no /dev/token (AWS). Throws its error. */
async function devToken(nickname) {
  const response = await fetch('dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: userIdFor(nickname), info: { name: nickname } }),
  });
  if (response.status === 404) return null;
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.message ?? `POST /dev/token answered ${response.status}`);
  return body.token;
}

/** The token to connect with now (a dev token is signed again on each connect: it may have expired). */
async function currentToken() {
  if (credentials.kind === 'dev') return devToken(credentials.nickname);
  if (credentials.kind === 'token') return credentials.token;
  return null;
}

/** The `sub` a pasted JWT claims (unverified, only to show who you are). */
function subjectOf(token) {
  try {
    const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    return typeof payload.sub === 'string' ? payload.sub : undefined;
  } catch {
    return undefined;
  }
}

function showSigninError(message) {
  signinError.textContent = message;
  signinError.hidden = !message;
}

signinForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const nickname = $('nickname').value.trim();
  if (!nickname) return;
  showSigninError('');
  try {
    if ((await devToken(nickname)) === null) {
      // No dev tokens here (AWS): ask for a real one.
      signinForm.hidden = true;
      tokenForm.hidden = false;
      return;
    }
  } catch (error) {
    return showSigninError(`cannot sign in: ${error.message}`);
  }
  start({ kind: 'dev', nickname }, nickname);
});

tokenForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const token = $('token').value.trim();
  if (token) start({ kind: 'token', token }, subjectOf(token) ?? 'token user');
});
$('anonymous').addEventListener('click', () => start({ kind: 'anonymous' }, 'anonymous'));

function start(how, name) {
  credentials = how;
  signinForm.hidden = true;
  tokenForm.hidden = true;
  showSigninError('');
  chatEl.hidden = false;
  whoamiEl.hidden = false;
  whoamiEl.textContent = name;
  renderRooms();
  connectOrSay();
}

// --- the connection ---------------------------------------------------------------------------------

function setState(state, label) {
  statusEl.dataset.state = state;
  statusEl.textContent = label;
  const open = state === 'open';
  input.disabled = !open;
  sendButton.disabled = !open;
  reconnectButton.hidden = state !== 'closed';
}

/** Sends a frame with a fresh id and remembers what to do with the answer. */
function request(frame, { onReply, onError } = {}) {
  const id = String(++lastId);
  pending.set(id, { frame, onReply, onError });
  socket.send(JSON.stringify({ ...frame, id }));
  return id;
}

async function connect() {
  setState('connecting', 'connecting…');
  pending.clear();
  if (websocketUrl === undefined) ({ websocketUrl } = await (await fetch('config.json')).json());
  const token = await currentToken();
  const url = new URL(websocketUrl);
  if (token) url.searchParams.set('token', token);
  const ws = new WebSocket(url);
  socket = ws;
  let opened = false;
  ws.addEventListener('open', () => {
    opened = true;
    setState('open', 'connected');
    rooms.set(DEFAULT_CHANNEL, 'joined');
    // After a reconnect: the rooms this tab was in, again.
    for (const [room, state] of rooms) {
      if (room !== DEFAULT_CHANNEL && (state === 'joined' || state === 'joining')) subscribe(room);
    }
    renderRooms();
    pingTimer = setInterval(() => request({ action: 'ping' }), PING_EVERY_MS);
  });
  ws.addEventListener('close', () => {
    clearInterval(pingTimer);
    if (socket !== ws) return;
    // A refused handshake (401: a bad or expired token, or no anonymous access) closes before opening.
    setState('closed', opened ? 'disconnected' : 'connection refused (token not accepted?) or server down');
    renderRooms();
  });
  ws.addEventListener('message', (event) => {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    receive(frame);
  });
}

function connectOrSay() {
  connect().catch((error) => setState('closed', `cannot connect: ${error.message}`));
}
reconnectButton.addEventListener('click', connectOrSay);

/** One frame from the relay. */
function receive(frame) {
  const request = typeof frame.id === 'string' && frame.type !== 'message' ? pending.get(frame.id) : undefined;
  if (request) pending.delete(frame.id);
  switch (frame.type) {
    case 'message':
      return renderMessage(frame);
    case 'subscribed':
      rooms.set(frame.channel, 'joined');
      request?.onReply?.(frame);
      return renderRooms();
    case 'unsubscribed':
      rooms.set(frame.channel, 'left');
      return renderRooms();
    case 'ack':
      mine.add(frame.messageId);
      // The message may have come back before its ack.
      for (const item of messagesEl.querySelectorAll(`li[data-id="${CSS.escape(frame.messageId)}"]`)) markMine(item);
      return;
    case 'pong':
      return;
    case 'error':
      request?.onError?.(frame);
      return renderError(frame.code, frame.message, request && describeRequest(request.frame));
    default:
      // API Gateway's own error frames ({"message": "Forbidden", "connectionId", "requestId"}) have no type.
      if (typeof frame.message === 'string') renderError('gateway', frame.message);
  }
}

function describeRequest(frame) {
  return frame.channel ? `${frame.action} ${frame.channel}` : frame.action;
}

// --- rooms ------------------------------------------------------------------------------------------

/** Joins a room; `activate` makes it the one the composer publishes to once joined (a click, not a reconnect). */
function subscribe(room, activate = false) {
  const known = rooms.has(room) && rooms.get(room) !== 'left';
  rooms.set(room, 'joining');
  request(
    { action: 'subscribe', channel: room },
    {
      onReply() {
        if (activate) activeRoom = room;
      },
      // Refused (forbidden, invalid_channel, too_many_subscriptions): not in the room after all; a typed
      // name that was refused leaves the list.
      onError() {
        if (known || DEFAULT_ROOMS.includes(room)) rooms.set(room, 'left');
        else rooms.delete(room);
        renderRooms();
      },
    },
  );
  renderRooms();
}

function unsubscribe(room) {
  rooms.set(room, 'leaving');
  request(
    { action: 'unsubscribe', channel: room },
    {
      onError() {
        rooms.set(room, 'joined');
        renderRooms();
      },
    },
  );
  renderRooms();
}

/** `games` → `chat:games`; a name with a namespace stays as it is. */
function channelFor(name) {
  return name.includes(':') || name === DEFAULT_CHANNEL ? name : `chat:${name}`;
}

/** How a channel is shown: #lobby for chat:lobby, everyone for the default channel, "to you" for yours. */
function roomLabel(channel) {
  if (channel === DEFAULT_CHANNEL) return 'everyone';
  if (channel.startsWith('chat:')) return `#${channel.slice(5)}`;
  if (channel.startsWith('user:')) return 'to you';
  return channel;
}

function renderRooms() {
  const open = socket?.readyState === WebSocket.OPEN;
  if (rooms.get(activeRoom) !== 'joined') activeRoom = DEFAULT_CHANNEL;
  roomList.replaceChildren(
    ...[...rooms].map(([room, state]) => {
      const item = document.createElement('li');
      item.dataset.channel = room;
      item.dataset.state = state;
      if (room === activeRoom) item.classList.add('active');
      const name = document.createElement('button');
      name.type = 'button';
      name.className = 'room';
      name.textContent = roomLabel(room);
      name.title = room;
      name.disabled = state !== 'joined';
      name.addEventListener('click', () => {
        activeRoom = room;
        renderRooms();
      });
      item.append(name);
      if (room !== DEFAULT_CHANNEL) {
        const toggle = document.createElement('button');
        toggle.type = 'button';
        toggle.className = 'toggle';
        toggle.textContent = state === 'joined' || state === 'leaving' ? 'Leave' : 'Join';
        toggle.disabled = !open || state === 'joining' || state === 'leaving';
        toggle.addEventListener('click', () => (state === 'joined' ? unsubscribe(room) : subscribe(room, true)));
        item.append(toggle);
      }
      return item;
    }),
  );
  activeRoomEl.textContent = `to ${roomLabel(activeRoom)}`;
  activeRoomEl.title = activeRoom;
  composer.dataset.channel = activeRoom;
}

roomForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const field = $('room-name');
  const name = field.value.trim();
  if (!name || socket?.readyState !== WebSocket.OPEN) return;
  const room = channelFor(name);
  field.value = '';
  if (rooms.get(room) !== 'joined') subscribe(room, true);
  else {
    activeRoom = room;
    renderRooms();
  }
});

// --- messages ---------------------------------------------------------------------------------------

function meta(parts) {
  const el = document.createElement('span');
  el.className = 'meta';
  parts.forEach(([className, text], i) => {
    if (i > 0) el.append(' · ');
    const part = document.createElement('span');
    part.className = className;
    part.textContent = text;
    el.append(part);
  });
  return el;
}

function append(item) {
  messagesEl.append(item);
  messagesEl.scrollTop = messagesEl.scrollHeight;
}

function renderMessage(frame) {
  const item = document.createElement('li');
  item.dataset.type = 'message';
  item.dataset.channel = frame.channel;
  item.dataset.id = frame.id;
  // from null: the server API; user null: an anonymous connection.
  const who = frame.from === null ? 'server' : (frame.user?.info?.name ?? frame.user?.id ?? 'anonymous');
  if (frame.from === null) item.classList.add('server');
  const { data } = frame;
  const text =
    typeof data === 'object' && data !== null && typeof data.text === 'string' ? data.text : JSON.stringify(data);
  item.append(
    meta([
      ['time', new Date(frame.ts).toLocaleTimeString()],
      ['room', roomLabel(frame.channel)],
      ['who', who],
    ]),
    text,
  );
  if (mine.has(frame.id)) markMine(item);
  append(item);
}

function markMine(item) {
  if (item.classList.contains('mine')) return;
  item.classList.add('mine');
  item.querySelector('.who')?.append(' (you)');
}

function renderError(code, message, context) {
  const item = document.createElement('li');
  item.dataset.type = 'error';
  item.dataset.code = code;
  item.className = 'error';
  item.append(meta([['code', `error ${code}${context ? ` (${context})` : ''}`]]), message);
  append(item);
}

composer.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text || socket?.readyState !== WebSocket.OPEN) return;
  request({ action: 'publish', channel: activeRoom, data: { text } });
  input.value = '';
  input.focus();
});
