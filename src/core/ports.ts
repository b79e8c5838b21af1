/**
 * A connection's membership of one channel, as subscribe writes it: who it is (presence, issue 12,
 * lists members from these) and when it lapses. Times are epoch milliseconds.
 */
export interface Subscriber {
  connectionId: string;
  connectedAt: number;
  /** The token's `sub`; null for anonymous connections. */
  userId: string | null;
  info: Record<string, unknown> | null;
  /** Epoch seconds after which the item is stale (DynamoDB TTL deletes it, late). */
  expiresAt: number;
}

/** A connection as the relay records it at $connect. */
export interface ConnectionRecord extends Subscriber {
  sourceIp: string;
}

/** A channel member as a fan-out sees it. */
export interface Member {
  connectionId: string;
  /** Epoch ms; a connection younger than its $connect may not be reachable yet. */
  connectedAt: number;
}

/**
 * How a subscribe went: `added` (new), `existing` (already subscribed; the membership is written
 * again all the same), `limit` (the connection holds the maximum already), `gone` (no record:
 * $disconnect ran first, or $connect never finished).
 */
export type SubscribeResult = 'added' | 'existing' | 'limit' | 'gone';

/**
 * A place in a channel's stream: `offset` counts the channel's publications (0 before the first),
 * `epoch` names the stream; a new epoch (the counter expired or was lost) restarts offsets at 1.
 */
export interface StreamPosition {
  offset: number;
  epoch: string;
}

/** Each channel's publication counter: atomic, so concurrent publishers never share an offset. */
export interface PositionStore {
  /** Takes the channel's next offset and keeps the stream for `ttlSeconds` more. */
  nextPosition(channel: string, ttlSeconds: number): Promise<StreamPosition>;
  /**
   * The channel's last position (offset 0 when nothing was published), creating the stream when
   * absent so that its epoch is stable from now on; keeps it for `ttlSeconds` more.
   */
  position(channel: string, ttlSeconds: number): Promise<StreamPosition>;
}

/**
 * Where connections and channel memberships live. The connection record lists its channels, so
 * forgetting a connection forgets every membership; a channel's members are read without a scan.
 */
export interface ConnectionStore extends PositionStore {
  /** Records a connection subscribed to `channels` (its automatic ones: no limit applies). */
  add(connection: ConnectionRecord, channels: readonly string[]): Promise<void>;
  /**
   * Subscribes a recorded connection to `channel` unless it already holds `maxSubscriptions`
   * others; atomic per connection, so concurrent subscribes cannot pass the limit together.
   */
  subscribe(subscriber: Subscriber, channel: string, maxSubscriptions: number): Promise<SubscribeResult>;
  /** Ends a membership; a channel never subscribed, or an unknown connection, is fine. */
  unsubscribe(connectionId: string, channel: string): Promise<void>;
  /**
   * Forgets a connection: its record and every membership it lists, plus memberships in
   * `channels` (a membership can outlive its record when a $connect failed halfway). Absent ids are fine.
   */
  remove(connectionId: string, channels?: readonly string[]): Promise<void>;
  /** Live (unexpired) members of `channel`, page by page so delivery can start early. */
  members(channel: string): AsyncIterable<Member[]>;
}

/** Delivers one text frame to one connection; throws ConnectionGoneError when it is gone. */
export interface Sender {
  send(connectionId: string, payload: string): Promise<void>;
  /** Closes the connection at the gateway (DeleteConnection); ConnectionGoneError when it is already gone. */
  close(connectionId: string): Promise<void>;
}

/** Epoch milliseconds; injected so tests control time. */
export interface Clock {
  now(): number;
}

/**
 * The subset of a logger the relay uses; console satisfies it. `details` may hold Error objects:
 * the logger keeps their stack and cause.
 */
export interface Logger {
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}
