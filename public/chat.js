// The demo chat on the client library (edge-relay/client, README "Client library"; the build copies its bundle
// beside this file): signs in with a nickname (a dev token from POST /dev/token under npm run dev, signed again
// for every connection attempt; on AWS a pasted token or none), connects to the WebSocket URL /config.json names,
// joins and leaves chat:* rooms, shows who is online in the room in use and its recent history, and every message
// once, in order, across reconnects (the library resubscribes from the last offset it delivered). Connection
// states are shown with their reason; errors (refused subscriptions, refused publishes) with their code.
// Plain JS, no build step of its own.

import { createClient, timingFor } from './edge-relay-client.js';

const DEFAULT_ROOMS = ['chat:lobby', 'chat:random'];
/** Every connection is subscribed to it at $connect; POST /messages goes there. */
const DEFAULT_CHANNEL = 'default';
/** How many earlier messages a room shows when joined. */
const HISTORY_LIMIT = 50;
/** Quick first retries (a dev server restart), at most 10 s apart after that. */
const BACKOFF = { baseMs: 250, capMs: 10_000 };
/** Failed attempts in a row after which the status says that the sign-in may be what is refused. */
const SLOW_ATTEMPTS = 3;

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
const membersEl = $('members');
const peopleRoomEl = $('people-room');
const messagesEl = $('messages');
const composer = $('composer');
const input = $('text');
const sendButton = $('send');
const activeRoomEl = $('active-room');

/** How this tab signs in: { kind: 'dev', nickname } | { kind: 'token', token } | { kind: 'anonymous' }. */
let credentials;
/** The user id this tab connects as (null: anonymous), to mark it in the members list. */
let myUserId = null;
let websocketUrl;
/** The emulator's connection limits from config.json (absent on AWS: the library's defaults are API Gateway's). */
let connectionLimits = {};
let client;
/**
 * channel → { state: 'joining' | 'joined' | 'left', sub?, members: Map<connectionId, member> }; the default
 * channel is joined by every connection and has no subscription of its own.
 */
const rooms = new Map([DEFAULT_CHANNEL, ...DEFAULT_ROOMS].map((room) => [room, { state: 'left', members: new Map() }]));
/** Where the composer publishes. */
let activeRoom = DEFAULT_CHANNEL;
/** Ids of the messages this tab published (from their acks), to mark them as ours. */
const mine = new Set();
/** channel → the offsets shown, so history and the subscription (and a rejoin) show each message once. */
const shownOffsets = new Map();

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

/** The library's `token` option: a dev token is signed again for every attempt (it may have expired). */
function tokenOption() {
  if (credentials.kind === 'dev') return async () => (await devToken(credentials.nickname)) ?? '';
  if (credentials.kind === 'token') return credentials.token;
  return undefined;
}

/** A JWT's claims, unverified; undefined when it is not a JWT. */
function claimsOf(token) {
  try {
    const claims = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    return typeof claims === 'object' && claims !== null ? claims : undefined;
  } catch {
    return undefined;
  }
}

/** The `sub` a pasted JWT claims (only to show who you are). */
function subjectOf(token) {
  const sub = claimsOf(token)?.sub;
  return typeof sub === 'string' ? sub : undefined;
}

/** How far this computer's clock may run ahead of the server's before an unexpired token looks expired. */
const CLOCK_SKEW_MS = 60_000;

/**
 * The library's `isRefused`: a browser cannot tell a refused handshake from an outage, so the page gives up
 * only on a token it can see is bad (not a JWT, or expired). Anything else is retried until it works.
 */
function isRefused({ token }) {
  if (token === undefined || token === '') return false;
  const claims = claimsOf(token);
  return claims === undefined || (typeof claims.exp === 'number' && claims.exp * 1000 + CLOCK_SKEW_MS <= Date.now());
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
  start({ kind: 'dev', nickname }, nickname, userIdFor(nickname));
});

tokenForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const token = $('token').value.trim();
  if (token) start({ kind: 'token', token }, subjectOf(token) ?? 'token user', subjectOf(token) ?? null);
});
$('anonymous').addEventListener('click', () => start({ kind: 'anonymous' }, 'anonymous', null));

function start(how, name, userId) {
  credentials = how;
  myUserId = userId;
  signinForm.hidden = true;
  tokenForm.hidden = true;
  showSigninError('');
  chatEl.hidden = false;
  whoamiEl.hidden = false;
  whoamiEl.textContent = name;
  renderRooms();
  connect();
}

// --- the connection ---------------------------------------------------------------------------------

/** Failed attempts since the last connection, to say when it is taking long. */
let failedAttempts = 0;

/** The library's states, as the page shows them (data-state "open" for connected). */
function showState({ state, reason }) {
  const failed = reason?.startsWith('connect failed') ? 1 : 0;
  failedAttempts = state === 'connecting' || state === 'reconnecting' ? failedAttempts + failed : 0;
  const slow =
    failedAttempts >= SLOW_ATTEMPTS ? '; still trying: the server is down or does not accept this sign-in' : '';
  let label;
  if (state === 'connected') label = 'connected';
  else if (state === 'connecting') label = reason ? `connecting… (${reason}${slow})` : 'connecting…';
  else if (state === 'reconnecting') label = `reconnecting… (${reason ?? 'connection lost'}${slow})`;
  else if (reason?.startsWith('handshake refused')) label = 'cannot connect: the token was refused';
  else label = `disconnected${reason && reason !== 'closed by the client' ? ` (${reason})` : ''}`;
  statusEl.dataset.state = state === 'connected' ? 'open' : state;
  statusEl.textContent = label;
  statusEl.title = reason ?? '';
  // Publishes wait in the library's queue while it reconnects; only a closed client refuses them.
  input.disabled = state === 'closed';
  sendButton.disabled = state === 'closed';
  reconnectButton.hidden = state !== 'closed';
  renderRooms();
}

/** Every state change goes into the timeline too, so a quick reconnect can still be seen. */
function logState({ state, reason }) {
  if (state === 'connecting' && !reason) return;
  renderNotice('state', `${state}${reason ? `: ${reason}` : ''}`, { state });
}

async function connect() {
  showState({ state: 'connecting' });
  try {
    if (websocketUrl === undefined) {
      const { websocketUrl: url, ...limits } = await (await fetch('config.json')).json();
      websocketUrl = url;
      connectionLimits = limits;
    }
  } catch (error) {
    return showState({ state: 'closed', reason: `cannot connect: ${error.message}` });
  }
  const next = createClient({
    url: websocketUrl,
    token: tokenOption(),
    backoff: BACKOFF,
    isRefused,
    // A ping at half the idle timeout, a handover before the limit: under the emulator's limits, or AWS's.
    ...timingFor(connectionLimits),
  });
  client = next;
  // API Gateway's own frames ("Internal server error" when a route's function failed).
  next.on('error', (error) => client === next && renderError(error.code, error.message));
  next.on('state', (event) => {
    if (client !== next) return;
    showState(event);
    logState(event);
    if (event.state === 'connected') {
      rooms.get(DEFAULT_CHANNEL).state = 'joined';
      renderRooms();
    }
  });
  // The channels every connection has: default, and this user's personal channel.
  next.on('message', (message) => {
    if (client !== next) return;
    const room = rooms.get(message.channel);
    // A room left a moment ago may still deliver a message or two: it is no longer shown.
    if (room && message.channel !== DEFAULT_CHANNEL) return;
    renderMessage(message);
  });
  // Rooms joined before (a new client after Reconnect): joined again.
  for (const [channel, room] of rooms) {
    if (channel !== DEFAULT_CHANNEL && room.state !== 'left') subscribe(channel);
  }
}
reconnectButton.addEventListener('click', connect);

// --- rooms ------------------------------------------------------------------------------------------

/** Joins a room; `activate` makes it the one the composer publishes to (a click, not a reconnect). */
function subscribe(channel, activate = false) {
  const known = rooms.has(channel);
  const room = rooms.get(channel) ?? { members: new Map() };
  rooms.set(channel, room);
  room.state = 'joining';
  room.members = new Map();
  // Live messages wait until history is shown, so both come in offset order.
  let waiting = [];
  const deliver = (message) => (waiting ? waiting.push(message) : showInOrder([message]));
  const sub = client.subscribe(channel, (message) => room.sub === sub && deliver(message), {
    onSubscribed() {
      if (room.sub !== sub) return;
      const first = room.state === 'joining';
      room.state = 'joined';
      if (first && activate) activeRoom = channel;
      renderRooms();
      // Who is here: again after every resubscribe (joins and leaves while away were not heard).
      refreshMembers(channel, room, sub);
      if (!first) return;
      loadHistory(channel, room, sub).finally(() => {
        const live = waiting;
        waiting = null;
        if (room.sub === sub) showInOrder(live);
      });
    },
    onRecovered(recovered) {
      if (room.sub === sub && !recovered)
        renderNotice('recovery', `${roomLabel(channel)}: some messages sent while disconnected may be missing`);
    },
    onGap(from, to) {
      if (room.sub === sub) renderNotice('gap', `${roomLabel(channel)}: messages ${from} to ${to} are no longer kept`);
    },
    onJoin({ member }) {
      if (room.sub !== sub) return;
      room.members.set(member.connectionId, member);
      renderMembers();
    },
    onLeave({ member }) {
      if (room.sub !== sub) return;
      room.members.delete(member.connectionId);
      renderMembers();
    },
    // Refused (forbidden, invalid_channel, too_many_subscriptions): not in the room after all; a typed name
    // that was refused leaves the list.
    onError(error) {
      if (room.sub !== sub) return;
      sub.unsubscribe();
      room.sub = undefined;
      if (known || DEFAULT_ROOMS.includes(channel)) room.state = 'left';
      else rooms.delete(channel);
      renderError(error.code ?? 'error', error.message, `subscribe ${channel}`);
      renderRooms();
    },
  });
  room.sub = sub;
  renderRooms();
}

function unsubscribe(channel) {
  const room = rooms.get(channel);
  room.sub?.unsubscribe();
  room.sub = undefined;
  room.state = 'left';
  room.members = new Map();
  renderRooms();
}

/** The room's latest messages, before anything live. */
async function loadHistory(channel, room, sub) {
  try {
    const { publications } = await client.history(channel, { limit: HISTORY_LIMIT });
    if (room.sub === sub) showInOrder(publications);
  } catch (error) {
    // forbidden without the history capability, or a namespace without history: live messages only.
    if (room.sub === sub && error.code !== 'forbidden') renderError(error.code, error.message, `history ${channel}`);
  }
}

async function refreshMembers(channel, room, sub) {
  try {
    const members = await client.presence(channel);
    if (room.sub !== sub) return;
    room.members = new Map(members.map((member) => [member.connectionId, member]));
    renderMembers();
  } catch (error) {
    if (room.sub === sub && error.code !== 'forbidden') renderError(error.code, error.message, `presence ${channel}`);
  }
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
  const usable = client !== undefined && client.state !== 'closed';
  if (rooms.get(activeRoom)?.state !== 'joined') activeRoom = DEFAULT_CHANNEL;
  roomList.replaceChildren(
    ...[...rooms].map(([channel, { state }]) => {
      const item = document.createElement('li');
      item.dataset.channel = channel;
      item.dataset.state = state;
      if (channel === activeRoom) item.classList.add('active');
      const name = document.createElement('button');
      name.type = 'button';
      name.className = 'room';
      name.textContent = roomLabel(channel);
      name.title = channel;
      name.disabled = state !== 'joined';
      name.addEventListener('click', () => {
        activeRoom = channel;
        renderRooms();
      });
      item.append(name);
      if (channel !== DEFAULT_CHANNEL) {
        const toggle = document.createElement('button');
        toggle.type = 'button';
        toggle.className = 'toggle';
        toggle.textContent = state === 'left' ? 'Join' : 'Leave';
        toggle.disabled = !usable;
        toggle.addEventListener('click', () => (state === 'left' ? subscribe(channel, true) : unsubscribe(channel)));
        item.append(toggle);
      }
      return item;
    }),
  );
  activeRoomEl.textContent = `to ${roomLabel(activeRoom)}`;
  activeRoomEl.title = activeRoom;
  composer.dataset.channel = activeRoom;
  renderMembers();
}

/** Who is online in the room in use (the default channel has no presence). */
function renderMembers() {
  const room = activeRoom === DEFAULT_CHANNEL ? undefined : rooms.get(activeRoom);
  peopleRoomEl.textContent = room ? roomLabel(activeRoom) : '—';
  const members = [...(room?.members.values() ?? [])].map((member) => ({ ...member, name: memberName(member) }));
  members.sort((a, b) => a.name.localeCompare(b.name));
  membersEl.replaceChildren(
    ...members.map((member) => {
      const item = document.createElement('li');
      item.dataset.connectionId = member.connectionId;
      item.dataset.user = member.userId ?? '';
      item.textContent = member.name;
      if (myUserId !== null && member.userId === myUserId) item.classList.add('me');
      return item;
    }),
  );
  membersEl.dataset.channel = room ? activeRoom : '';
}

function memberName({ userId, info }) {
  return (typeof info?.name === 'string' && info.name) || userId || 'anonymous';
}

roomForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const field = $('room-name');
  const name = field.value.trim();
  if (!name || !client || client.state === 'closed') return;
  const channel = channelFor(name);
  field.value = '';
  if (rooms.get(channel)?.state === 'left' || !rooms.has(channel)) subscribe(channel, true);
  else {
    activeRoom = channel;
    renderRooms();
  }
});

// --- messages ---------------------------------------------------------------------------------------

/** Shows messages of one channel sorted by offset, each offset once. */
function showInOrder(messages) {
  for (const message of [...messages].sort((a, b) => a.offset - b.offset)) {
    if (!shownOffsets.has(message.channel)) shownOffsets.set(message.channel, new Set());
    const offsets = shownOffsets.get(message.channel);
    if (offsets.has(`${message.epoch}/${message.offset}`)) continue;
    offsets.add(`${message.epoch}/${message.offset}`);
    renderMessage(message);
  }
}

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

/** The time of a message; with its date when it is not from today. */
function when(ts) {
  const date = new Date(ts);
  const today = new Date();
  const sameDay = date.toDateString() === today.toDateString();
  return sameDay ? date.toLocaleTimeString() : date.toLocaleString();
}

function renderMessage(message) {
  const item = document.createElement('li');
  item.dataset.type = 'message';
  item.dataset.channel = message.channel;
  item.dataset.id = message.id;
  if (typeof message.offset === 'number') item.dataset.offset = String(message.offset);
  // from null: the server API; user null: an anonymous connection.
  const who = message.from === null ? 'server' : (message.user?.info?.name ?? message.user?.id ?? 'anonymous');
  if (message.from === null) item.classList.add('server');
  const { data } = message;
  const text =
    typeof data === 'object' && data !== null && typeof data.text === 'string' ? data.text : JSON.stringify(data);
  const parts = meta([
    ['time', when(message.ts)],
    ['room', roomLabel(message.channel)],
    ['who', who],
  ]);
  parts.querySelector('.time').title = new Date(message.ts).toISOString();
  item.append(parts, text);
  if (mine.has(message.id)) markMine(item);
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

function renderNotice(type, text, data = {}) {
  const item = document.createElement('li');
  item.dataset.type = type;
  Object.assign(item.dataset, data);
  item.className = 'notice';
  item.append(meta([['time', new Date().toLocaleTimeString()]]), text);
  append(item);
}

composer.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text || !client || client.state === 'closed') return;
  const channel = activeRoom;
  client.publish(channel, { text }).then(
    (ack) => {
      mine.add(ack.messageId);
      // The message may have come back before its ack.
      for (const item of messagesEl.querySelectorAll(`li[data-id="${CSS.escape(ack.messageId)}"]`)) markMine(item);
    },
    (error) => renderError(error.code ?? 'error', error.message, `publish ${channel}`),
  );
  input.value = '';
  input.focus();
});
