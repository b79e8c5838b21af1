import type { ClientError } from './errors.js';

/** The connection's lifecycle as the application sees it. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface StateEvent {
  state: ConnectionState;
  /** Why the state changed (a close code and reason, `heartbeat timeout`, `handshake refused`...). */
  reason?: string;
}

/** A place in a channel's stream: offsets are only comparable within one epoch. */
export interface Position {
  offset: number;
  epoch: string;
}

/** A publication as the server delivers it (protocol v1's message frame). */
export interface Message<T = unknown> {
  type: 'message';
  channel: string;
  id: string;
  data: T;
  from: string | null;
  user: { id: string; info?: unknown } | null;
  ts: number;
  offset: number;
  epoch: string;
}

export interface Member {
  connectionId: string;
  userId: string | null;
  info: unknown;
}

export interface MemberEvent {
  type: 'join' | 'leave';
  channel: string;
  member: Member;
}

export interface Ack {
  type: 'ack';
  id: string;
  channel: string;
  messageId: string;
  offset: number;
  duplicate?: boolean;
}

export interface History {
  channel: string;
  position: Position;
  publications: Message[];
}

/** Any frame; the library reads only the fields it needs. */
// biome-ignore lint/suspicious/noExplicitAny: frames are JSON from the wire
export type Frame = Record<string, any>;

/** The part of the WebSocket API the library uses: the browser's, Node 22's and `ws`'s all have it. */
export interface WebSocketLike {
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface ClientOptions {
  /** `wss://<api>/<stage>`; the token is added as `?token=`. */
  url: string;
  /** A JWT, or a function asked for a fresh one before every connection attempt (tokens expire). */
  token?: string | (() => string | Promise<string>);
  /** The WebSocket class: the global one by default; in Node 20 pass `ws`'s. */
  WebSocket?: new (
    url: string,
  ) => unknown;
  /** Reconnect delay: random(0, min(capMs, baseMs * 2^attempt)). */
  backoff?: { baseMs?: number; capMs?: number };
  /** Ping this often (default 5 min, below API Gateway's 10-minute idle timeout). */
  heartbeatIntervalMs?: number;
  /** No pong within this → the connection is dead and replaced (default 10 s). */
  pongTimeoutMs?: number;
  /**
   * publish, history and presence reject with code `timeout` after this (default 10 s); so does a
   * handshake, which is then tried again. A subscribe not answered within it is sent again after backoff
   * while the connection answers a ping, else the connection is replaced (a handover's new connection: the
   * handover is tried again).
   */
  publishTimeoutMs?: number;
  /** How long a gap in a channel's offsets is held before history fills it (default 1 s). */
  gapWindowMs?: number;
  /**
   * Replace the connection this long after its handshake, before API Gateway cuts it (default 2 h − 5 min):
   * a new one is opened and resubscribed first, and the old one stays until it has delivered what it still
   * had on its way (at most `gapWindowMs`).
   */
  maxConnectionMs?: number;
  /** Publishes waiting for a connection beyond this are refused with `queue_full` (default 100). */
  maxQueuedPublishes?: number;
  /**
   * Browsers hide a refused handshake's status: a 401 looks like any failure before open (a 1006 close),
   * and so does an outage. Asked after each such failure, with the token it was made with: resolve true
   * when you know the token is bad (malformed, expired, revoked) and the client closes with `handshake
   * refused`. Without it, or on false, the client keeps retrying with backoff, so it comes back after an
   * outage of any length. Node's `ws` names the status, so a 401/403 there closes the client by itself.
   */
  isRefused?(failure: HandshakeFailure): boolean | Promise<boolean>;
  /** Source of randomness for jitter (tests). */
  random?: () => number;
}

export interface HandshakeFailure {
  /** The token the attempt was made with (undefined without one). */
  token: string | undefined;
  /** Such failures in a row, this one included. */
  failures: number;
}

export interface SubscribeOptions {
  /** Each `subscribed` reply (the first, and after every resubscribe): the channel's position then. */
  onSubscribed?(position: Position): void;
  /** After every resubscribe: false means messages may have been missed; reload from your source of truth. */
  onRecovered?(recovered: boolean): void;
  /** Offsets from..to could not be delivered (no longer in history); delivery goes on after them. */
  onGap?(from: number, to: number): void;
  onJoin?(event: MemberEvent): void;
  onLeave?(event: MemberEvent): void;
  /** The subscribe was refused (`forbidden`, `invalid_channel`, ...): the subscription ends; subscribe again to retry. */
  onError?(error: Error): void;
}

export interface Subscription {
  readonly channel: string;
  unsubscribe(): void;
}

export interface ClientEvents {
  state: StateEvent;
  join: MemberEvent;
  leave: MemberEvent;
  /** Messages of channels not subscribed through the library (`default`, `user:<sub>`). */
  message: Message;
  /**
   * A frame API Gateway sends by itself, without the protocol's `type`: `{"message": "Internal server
   * error"}` when a route's function fails, `Forbidden`, `Too Many Requests`. Its code is `gateway_error`;
   * a request it answered gets no reply of its own and ends in `timeout`.
   */
  error: ClientError;
}

export interface Client {
  readonly state: ConnectionState;
  on<K extends keyof ClientEvents>(event: K, listener: (value: ClientEvents[K]) => void): () => void;
  subscribe(channel: string, onMessage: (message: Message) => void, options?: SubscribeOptions): Subscription;
  publish(channel: string, data: unknown, options?: { idempotencyKey?: string }): Promise<Ack>;
  presence(channel: string): Promise<Member[]>;
  history(channel: string, options?: { limit?: number; since?: Position }): Promise<History>;
  close(): void;
}
