import { backoffDelay } from './backoff.js';
import { type ChannelStream, createChannelStream } from './channel-stream.js';
import { type Connection, openConnection } from './connection.js';
import { createEmitter, safely } from './emitter.js';
import { ClientError, codeOf } from './errors.js';
import { startHeartbeat } from './heartbeat.js';
import { createPublishQueue } from './publish-queue.js';
import type {
  Ack,
  Client,
  ClientEvents,
  ClientOptions,
  ConnectionState,
  Frame,
  MemberEvent,
  Message,
  Position,
  SubscribeOptions,
} from './types.js';

/** API Gateway's frame quota; browsers cannot fragment, so a bigger frame would close the connection. */
export const MAX_FRAME_BYTES = 32 * 1024;

interface Subscriber extends SubscribeOptions {
  onMessage(message: Message): void;
}

interface ChannelEntry {
  stream: ChannelStream;
  subscribers: Set<Subscriber>;
}

const randomKey = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;

/** Connects at once and stays connected until close(); see ClientOptions for the knobs. */
export function createClient(options: ClientOptions): Client {
  const WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: new (url: string) => unknown }).WebSocket;
  if (!WebSocket) throw new TypeError('no global WebSocket: pass options.WebSocket (in Node 20, ws)');
  const random = options.random ?? Math.random;
  const baseMs = options.backoff?.baseMs ?? 500;
  const capMs = options.backoff?.capMs ?? 30_000;
  const maxConnectionMs = options.maxConnectionMs ?? (2 * 60 - 5) * 60_000;
  const maxHandshakeFailures = options.maxHandshakeFailures ?? 10;

  const events = createEmitter<ClientEvents>();
  const channels = new Map<string, ChannelEntry>();
  let state: ConnectionState = 'connecting';
  let current: Connection | undefined;
  /** The connection a handover is preparing: subscriptions made meanwhile go to it too. */
  let incoming: Connection | undefined;
  let handoverTimer: ReturnType<typeof setTimeout> | undefined;
  let stopCurrent = () => {};
  let attempt = 0;
  let handshakeFailures = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const queue = createPublishQueue({
    timeoutMs: options.publishTimeoutMs ?? 10_000,
    maxQueued: options.maxQueuedPublishes ?? 100,
    retryDelayMs: 500,
    current: () => current,
  });

  const setState = (next: ConnectionState, reason?: string) => {
    // While (re)connecting every failed attempt is told, with its reason.
    if (state === next && (next === 'connected' || next === 'closed')) return;
    state = next;
    events.emit('state', { state, reason });
  };

  const route = (frame: Frame) => {
    const entry = channels.get(frame.channel);
    if (frame.type === 'message') {
      if (entry) entry.stream.receive(frame as Message);
      else events.emit('message', frame as Message);
    } else if (frame.type === 'join' || frame.type === 'leave') {
      events.emit(frame.type, frame as MemberEvent);
      for (const subscriber of entry?.subscribers ?? []) {
        safely(frame.type === 'join' ? subscriber.onJoin : subscriber.onLeave, frame as MemberEvent);
      }
    }
  };

  /** A new connection with a fresh token; resolves once it is open. */
  const open = async (): Promise<Connection> => {
    const token = typeof options.token === 'function' ? await options.token() : options.token;
    const url = new URL(options.url);
    if (token) url.searchParams.set('token', token);
    const connection = openConnection(WebSocket, url.href, {
      onFrame: route,
      onLost: (reason) => lost(connection, reason),
    });
    await connection.opened;
    return connection;
  };

  const subscribeOn = async (connection: Connection, channel: string, entry: ChannelEntry) => {
    const since = entry.stream.since();
    try {
      const [reply] = await connection.request({ action: 'subscribe', channel, ...(since && { since }) });
      if (channels.get(channel) !== entry) return;
      entry.stream.subscribed(reply!.position, reply!.recovered);
      for (const s of entry.subscribers) safely(s.onSubscribed, reply!.position);
    } catch (error) {
      // disconnected: the next connection resubscribes
      if (codeOf(error) !== 'disconnected') for (const s of entry.subscribers) safely(s.onError, error as Error);
    }
  };
  const subscribeAll = (connection: Connection) =>
    Promise.all([...channels].map(([channel, entry]) => subscribeOn(connection, channel, entry)));

  /** Makes `connection` the one used: heartbeat, the handover timer, queued requests. */
  const adopt = (connection: Connection) => {
    current = connection;
    const stopHeartbeat = startHeartbeat(connection, {
      intervalMs: options.heartbeatIntervalMs ?? 5 * 60_000,
      timeoutMs: options.pongTimeoutMs ?? 10_000,
      onDead: () => {
        connection.close(4000, 'heartbeat timeout');
        lost(connection, 'heartbeat timeout');
      },
    });
    handoverTimer = setTimeout(() => handover(connection), maxConnectionMs);
    stopCurrent = () => {
      stopHeartbeat();
      clearTimeout(handoverTimer);
    };
    queue.flush(connection);
  };

  const connect = async () => {
    retryTimer = undefined;
    let connection: Connection;
    try {
      connection = await open();
    } catch (error) {
      if (closed) return;
      const explained = (error as { explained?: boolean }).explained;
      const offline = (globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine === false;
      // A failure before open that nobody explains is, in a browser, possibly a 401/403 (see maxHandshakeFailures).
      if (codeOf(error) === 'connect_failed' && !explained && !offline) handshakeFailures++;
      if (codeOf(error) === 'refused' || handshakeFailures >= maxHandshakeFailures) {
        return shutdown(`handshake refused: ${(error as Error).message}`);
      }
      return reconnectLater(`connect failed: ${(error as Error).message}`);
    }
    if (closed) return connection.close();
    // It may have closed before this continuation ran: its onLost found it not yet current.
    if (!connection.isOpen) return reconnectLater('closed as it opened');
    attempt = 0;
    handshakeFailures = 0;
    adopt(connection);
    setState('connected');
    void subscribeAll(connection);
  };

  const reconnectLater = (reason: string) => {
    setState(state === 'connecting' ? 'connecting' : 'reconnecting', reason);
    retryTimer = setTimeout(connect, backoffDelay(attempt++, baseMs, capMs, random));
  };

  const lost = (connection: Connection, reason: string) => {
    if (connection !== current) return; // an old connection after a handover
    stopCurrent();
    current = undefined;
    if (!closed) reconnectLater(reason);
  };

  /** Before API Gateway's duration limit: resubscribe on a new connection, then drop the old one. */
  const handover = async (old: Connection) => {
    let next: Connection;
    try {
      next = await open();
    } catch {
      // The old connection goes on; try again later, while there is time left.
      if (current === old) handoverTimer = setTimeout(() => handover(old), capMs);
      return;
    }
    incoming = next;
    await subscribeAll(next);
    incoming = undefined;
    if (closed || current !== old || !next.isOpen) return next.close();
    stopCurrent();
    adopt(next);
    old.close(1000, 'handover');
  };

  const shutdown = (reason: string) => {
    closed = true;
    clearTimeout(retryTimer);
    stopCurrent();
    for (const connection of [current, incoming]) connection?.close(1000, reason);
    current = incoming = undefined;
    for (const entry of channels.values()) entry.stream.stop();
    queue.rejectAll(new ClientError('closed', reason));
    setState('closed', reason);
  };

  const request = async (frame: Frame, bounded = false) => {
    if (closed) throw new ClientError('closed', 'the client is closed');
    return queue.request(frame, bounded);
  };

  void connect();

  return {
    get state() {
      return state;
    },
    on: events.on,
    subscribe(channel, onMessage, subscribeOptions = {}) {
      let entry = channels.get(channel);
      if (!entry) {
        const subscribers = new Set<Subscriber>();
        const each = (call: (s: Subscriber) => void) => subscribers.forEach(call);
        entry = {
          subscribers,
          stream: createChannelStream({
            gapWindowMs: options.gapWindowMs ?? 1000,
            deliver: (message) => each((s) => safely(s.onMessage, message)),
            onGap: (from, to) => each((s) => safely(() => s.onGap?.(from, to), undefined)),
            onRecovered: (recovered) => each((s) => safely(s.onRecovered, recovered)),
            fill: async (since) => (await history(channel, { since })).publications,
          }),
        };
        channels.set(channel, entry);
        for (const connection of [current, incoming]) if (connection) void subscribeOn(connection, channel, entry);
      }
      const subscriber: Subscriber = { ...subscribeOptions, onMessage };
      const joined = entry;
      joined.subscribers.add(subscriber);
      return {
        channel,
        unsubscribe() {
          joined.subscribers.delete(subscriber);
          if (joined.subscribers.size > 0 || channels.get(channel) !== joined) return;
          channels.delete(channel);
          joined.stream.stop();
          for (const connection of [current, incoming]) {
            connection?.request({ action: 'unsubscribe', channel }).catch(() => {});
          }
        },
      };
    },
    async publish(channel, data, { idempotencyKey = randomKey() } = {}) {
      const frame = { action: 'publish', channel, data, idempotencyKey };
      // The id the connection adds is a few digits: 16 bytes is a safe allowance.
      const bytes = new TextEncoder().encode(JSON.stringify(frame)).length + 16;
      if (bytes > MAX_FRAME_BYTES) {
        throw new ClientError('message_too_large', `the publish frame is ${bytes} bytes; at most ${MAX_FRAME_BYTES}`);
      }
      const [ack] = await request(frame, true);
      return ack as Ack;
    },
    async presence(channel) {
      return (await request({ action: 'presence', channel })).flatMap((page) => page.members);
    },
    history,
    close: () => {
      if (!closed) shutdown('closed by the client');
    },
  };

  async function history(channel: string, { limit, since }: { limit?: number; since?: Position } = {}) {
    const pages = await request({ action: 'history', channel, limit, since });
    return { channel, position: pages.at(-1)!.position, publications: pages.flatMap((page) => page.publications) };
  }
}
