import { backoffDelay } from './backoff.js';
import { type ChannelStream, createChannelStream } from './channel-stream.js';
import { type Connection, openConnection } from './connection.js';
import { createEmitter, safely } from './emitter.js';
import { ClientError, codeOf } from './errors.js';
import { startHeartbeat } from './heartbeat.js';
import { createPublishQueue } from './publish-queue.js';
import { timingFor } from './timing.js';
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

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** A handover in progress: the new connection, and what resubscribing on it has given so far. */
interface Handover {
  connection: Connection;
  /** One per channel, true once answered; channels subscribed while it runs are added. */
  subscribes: Promise<boolean>[];
  /** Each channel's position on the new connection: the old one stays until its streams have reached them. */
  targets: { channel: string; entry: ChannelEntry; position: Position }[];
  /** Why the old connection was lost while this prepared: the reconnect waits to see if this one is ready. */
  oldLost?: string;
}

/** Connects at once and stays connected until close(); see ClientOptions for the knobs. */
export function createClient(options: ClientOptions): Client {
  const WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: new (url: string) => unknown }).WebSocket;
  if (!WebSocket) throw new TypeError('no global WebSocket: pass options.WebSocket (in Node 20, ws)');
  const random = options.random ?? Math.random;
  const baseMs = options.backoff?.baseMs ?? 500;
  const capMs = options.backoff?.capMs ?? 30_000;
  const defaults = timingFor();
  const maxConnectionMs = options.maxConnectionMs ?? defaults.maxConnectionMs;
  const requestTimeoutMs = options.publishTimeoutMs ?? 10_000;
  const gapWindowMs = options.gapWindowMs ?? 1000;
  const pongTimeoutMs = options.pongTimeoutMs ?? 10_000;

  const events = createEmitter<ClientEvents>();
  const channels = new Map<string, ChannelEntry>();
  let state: ConnectionState = 'connecting';
  let current: Connection | undefined;
  /** Subscriptions made while a handover prepares its connection go to that one too. */
  let incoming: Handover | undefined;
  /** The connection a handover replaced, until it has delivered what it still had on its way. */
  let outgoing: { connection: Connection; reached(): boolean; timer: ReturnType<typeof setTimeout> } | undefined;
  let handoverTimer: ReturnType<typeof setTimeout> | undefined;
  let stopCurrent = () => {};
  let attempt = 0;
  let handshakeFailures = 0;
  let handoverFailures = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const queue = createPublishQueue({
    timeoutMs: requestTimeoutMs,
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
    if (frame.type === undefined && typeof frame.message === 'string') {
      return events.emit('error', new ClientError('gateway_error', frame.message));
    }
    const entry = channels.get(frame.channel);
    if (frame.type === 'message') {
      if (entry) entry.stream.receive(frame as Message);
      else events.emit('message', frame as Message);
      if (outgoing?.reached()) retireOutgoing();
    } else if (frame.type === 'join' || frame.type === 'leave') {
      events.emit(frame.type, frame as MemberEvent);
      for (const subscriber of entry?.subscribers ?? []) {
        safely(frame.type === 'join' ? subscriber.onJoin : subscriber.onLeave, frame as MemberEvent);
      }
    }
  };

  const freshToken = async () => (typeof options.token === 'function' ? await options.token() : options.token);

  /** A new connection with `token`; resolves once it is open. */
  const open = async (token: string | undefined): Promise<Connection> => {
    const url = new URL(options.url);
    if (token) url.searchParams.set('token', token);
    const handlers = { onFrame: route, onLost: (reason: string) => lost(connection, reason) };
    const connection = openConnection(WebSocket, url.href, handlers, requestTimeoutMs);
    await connection.opened;
    return connection;
  };

  /**
   * Subscribes `entry` on `connection`. False when the connection gave no answer (it dropped, or timed
   * out) while the channel is still wanted: it is not live there. A refusal is an answer: it goes to onError.
   */
  const subscribeOn = async (connection: Connection, channel: string, entry: ChannelEntry, handover?: Handover) => {
    const since = entry.stream.since();
    try {
      const frame = { action: 'subscribe', channel, ...(since && { since }) };
      const [reply] = await connection.request(frame, requestTimeoutMs);
      if (channels.get(channel) !== entry) return true;
      entry.stream.subscribed(reply!.position, reply!.recovered, handover !== undefined);
      handover?.targets.push({ channel, entry, position: reply!.position });
      for (const s of entry.subscribers) safely(s.onSubscribed, reply!.position);
      return true;
    } catch (error) {
      if (channels.get(channel) !== entry) return true;
      const code = codeOf(error);
      if (code === 'disconnected' || code === 'timeout') return false;
      // Refused: the subscription ends (resubscribing would only be refused again on every reconnect).
      channels.delete(channel);
      entry.stream.stop();
      for (const s of entry.subscribers) safely(s.onError, error as Error);
      return true;
    }
  };

  /**
   * Subscribes on the connection in use. A subscribe nobody answers means the connection is dead, or API
   * Gateway answered without an id (throttled, a failing route): a ping tells which. Dead: replace it.
   * Alive: try those channels again after backoff. The reconnect backoff starts over once all are answered.
   */
  const subscribeLive = async (connection: Connection, wanted: [string, ChannelEntry][], retry = 0) => {
    if (connection !== current) return;
    const answers = await Promise.all(wanted.map(([channel, entry]) => subscribeOn(connection, channel, entry)));
    const unanswered = wanted.filter((_, i) => !answers[i]);
    if (connection !== current) return;
    if (unanswered.length === 0) {
      attempt = 0;
      return;
    }
    const alive = await connection.request({ action: 'ping' }, pongTimeoutMs).then(
      () => true,
      () => false,
    );
    if (connection !== current) return;
    if (!alive) {
      connection.close(4000, 'subscribe timeout');
      return lost(connection, 'no reply to subscribe');
    }
    setTimeout(() => subscribeLive(connection, unanswered, retry + 1), backoffDelay(retry, baseMs, capMs, random));
  };

  /** Makes `connection` the one used: heartbeat, the handover timer, queued requests. */
  const adopt = (connection: Connection) => {
    current = connection;
    handoverFailures = 0; // each connection's handovers start their backoff over
    const stopHeartbeat = startHeartbeat(connection, {
      intervalMs: options.heartbeatIntervalMs ?? defaults.heartbeatIntervalMs,
      timeoutMs: pongTimeoutMs,
      onDead: () => {
        connection.close(4000, 'heartbeat timeout');
        lost(connection, 'heartbeat timeout');
      },
    });
    // API Gateway counts the duration from the handshake, not from when resubscribing was done.
    const age = Date.now() - connection.openedAt;
    handoverTimer = setTimeout(() => handover(connection), Math.max(0, maxConnectionMs - age));
    stopCurrent = () => {
      stopHeartbeat();
      clearTimeout(handoverTimer);
    };
    queue.flush(connection);
  };

  /** A failure before open that the runtime does not explain: in a browser, a 401/403 looks like this. */
  const refusedInBrowser = async (error: unknown, token: string | undefined) => {
    const explained = (error as { explained?: boolean } | undefined)?.explained;
    const offline = (globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine === false;
    if (codeOf(error) !== 'connect_failed' || explained || offline || !options.isRefused) return false;
    try {
      return (await options.isRefused({ token, failures: ++handshakeFailures })) === true;
    } catch {
      return false; // the application's check failed: an outage is the safer guess
    }
  };

  const connect = async () => {
    retryTimer = undefined;
    let token: string | undefined;
    let connection: Connection;
    try {
      token = await freshToken();
      connection = await open(token);
    } catch (error) {
      // Closed meanwhile, or another connection is in use: this attempt no longer matters.
      if (closed || current) return;
      const refused = codeOf(error) === 'refused' || (await refusedInBrowser(error, token));
      if (closed || current) return;
      if (refused) return shutdown(`handshake refused: ${messageOf(error)}`);
      return reconnectLater(`connect failed: ${messageOf(error)}`);
    }
    // Closed meanwhile, or another connection is in use.
    if (closed || current) return connection.close();
    // It may have closed before this continuation ran: its onLost found it not yet current.
    if (!connection.isOpen) return reconnectLater('closed as it opened');
    handshakeFailures = 0;
    adopt(connection);
    setState('connected');
    void subscribeLive(connection, [...channels]);
  };

  const reconnectLater = (reason: string) => {
    setState(state === 'connecting' ? 'connecting' : 'reconnecting', reason);
    retryTimer = setTimeout(connect, backoffDelay(attempt++, baseMs, capMs, random));
  };

  const lost = (connection: Connection, reason: string) => {
    if (connection !== current) return; // an old connection after a handover
    stopCurrent();
    current = undefined;
    if (closed) return;
    // A handover is resubscribing on an open connection (the old one reached its limit first): it takes over
    // if it gets ready, and a reconnect is reported only if it does not.
    if (incoming?.connection.isOpen) {
      incoming.oldLost = reason;
      return;
    }
    reconnectLater(reason);
  };

  /**
   * Before API Gateway's duration limit: resubscribe on a new connection, then drop the old one. Until
   * every channel is live on the new one, the old one stays in use; a failed try is tried again later.
   */
  const handover = async (old: Connection) => {
    // With backoff, not a fixed wait: a transient failure is retried soon, while the limit is still ahead.
    const tryAgain = () => {
      if (closed || current !== old) return;
      const delayMs = backoffDelay(handoverFailures++, baseMs, capMs, random);
      handoverTimer = setTimeout(() => handover(old), delayMs);
    };
    let next: Connection;
    try {
      next = await open(await freshToken());
    } catch {
      return tryAgain();
    }
    // Closed, or the old one was lost meanwhile (the reconnect it started resubscribes everything).
    if (closed || current !== old) return next.close();
    const preparing: Handover = { connection: next, subscribes: [], targets: [] };
    incoming = preparing;
    for (const [channel, entry] of channels) preparing.subscribes.push(subscribeOn(next, channel, entry, preparing));
    let live = true;
    // The list grows while this waits (channels subscribed meanwhile): wait for those too.
    for (let i = 0; i < preparing.subscribes.length; i++) live = (await preparing.subscribes[i]!) && live;
    if (incoming === preparing) incoming = undefined;
    if (closed) return next.close();
    if (!live || !next.isOpen) {
      next.close(1000, 'handover failed');
      if (preparing.oldLost !== undefined) return reconnectLater(preparing.oldLost);
      return tryAgain();
    }
    if (current === old) {
      stopCurrent();
      adopt(next);
      return retireLater(old, preparing.targets);
    }
    // The old one was lost meanwhile: this one is ready, and takes over without a reconnect.
    if (preparing.oldLost !== undefined) {
      adopt(next);
      attempt = 0;
      return;
    }
    next.close();
  };

  /**
   * Publications placed before the new connection's subscribe went only to the old one, and may still be on
   * their way there: it stays open until every stream has reached the new connection's position, at most for
   * the gap window (after which a missing offset is a gap, filled from history).
   */
  const retireLater = (old: Connection, targets: Handover['targets']) => {
    if (outgoing) retireOutgoing();
    const reached = () =>
      targets.every(
        ({ channel, entry, position }) => channels.get(channel) !== entry || entry.stream.reached(position),
      );
    outgoing = { connection: old, reached, timer: setTimeout(() => retireOutgoing(), gapWindowMs) };
    if (reached()) retireOutgoing();
  };
  const retireOutgoing = () => {
    if (!outgoing) return;
    clearTimeout(outgoing.timer);
    outgoing.connection.close(1000, 'handover');
    outgoing = undefined;
  };

  const shutdown = (reason: string) => {
    closed = true;
    clearTimeout(retryTimer);
    stopCurrent();
    retireOutgoing();
    for (const connection of [current, incoming?.connection]) connection?.close(1000, reason);
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
            gapWindowMs,
            deliver: (message) => each((s) => safely(s.onMessage, message)),
            onGap: (from, to) => each((s) => safely(() => s.onGap?.(from, to), undefined)),
            onRecovered: (recovered) => each((s) => safely(s.onRecovered, recovered)),
            fill: async (since) => (await history(channel, { since })).publications,
          }),
        };
        channels.set(channel, entry);
        if (current) void subscribeLive(current, [[channel, entry]]);
        // A handover's connection that misses it is not adopted: the handover is tried again.
        if (incoming) incoming.subscribes.push(subscribeOn(incoming.connection, channel, entry, incoming));
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
          // A handover's old connection, still delivering, too: or the channel's messages go on arriving there.
          for (const connection of [current, incoming?.connection, outgoing?.connection]) {
            connection?.request({ action: 'unsubscribe', channel }).catch(() => {});
          }
          if (outgoing?.reached()) retireOutgoing();
        },
      };
    },
    async publish(channel, data, { idempotencyKey = randomKey() } = {}) {
      const frame = { action: 'publish', channel, data, idempotencyKey };
      // The id the connection adds is a few digits: 16 bytes is a safe allowance.
      const bytes = new TextEncoder().encode(JSON.stringify(frame)).length + 16;
      try {
        if (bytes > MAX_FRAME_BYTES) {
          throw new ClientError('message_too_large', `the publish frame is ${bytes} bytes; at most ${MAX_FRAME_BYTES}`);
        }
        const [ack] = await request(frame, true);
        return ack as Ack;
      } catch (error) {
        // Its own copy: one error (close(), say) may reject many publishes, each with its own key.
        if (!(error instanceof ClientError)) throw error;
        throw Object.assign(new ClientError(error.code, error.message), { idempotencyKey });
      }
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
