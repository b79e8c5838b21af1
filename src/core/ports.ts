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
   * absent so that its epoch is stable from now on, and keeping it at least `ttlSeconds / 2` more.
   * Mostly a read: subscribes and history reads do not compete with publishes for the item's writes.
   */
  position(channel: string, ttlSeconds: number): Promise<StreamPosition>;
}

/** One kept publication: its offset and its message frame, serialised once at publish. */
export interface StoredPublication {
  offset: number;
  /** The message frame's JSON text, exactly as subscribers received it. */
  frame: string;
}

/** A kept publication as read back, with when it lapses (epoch seconds). */
export interface KeptPublication extends StoredPublication {
  expiresAt: number;
}

/** Which kept publications of one stream to read: offsets in (after, upTo], the latest `limit` of them. */
export interface HistoryRange {
  epoch: string;
  /** Exclusive lower bound; 0 reads from the stream's start. */
  after: number;
  /** Inclusive upper bound: the position read before, so the answer does not move while publications arrive. */
  upTo: number;
  /** At most this many, the latest ones. */
  limit: number;
}

/**
 * A channel's kept publications, by stream (epoch) and offset. Items outlive their use: the
 * window (the latest historySize) is applied on read, and TTL deletes them, so a publish costs one write.
 */
export interface HistoryStore {
  /** Keeps one publication for `ttlSeconds`; written before its ack. */
  append(channel: string, epoch: string, publication: StoredPublication, ttlSeconds: number): Promise<void>;
  /** The unexpired publications of `range`, oldest first (strongly consistent: an acked one is there). */
  read(channel: string, range: HistoryRange): Promise<KeptPublication[]>;
}

/** What the first publish with an idempotency key left for its repeats. */
export interface IdempotencyRecord {
  messageId: string;
  /** Undefined while the first publish has claimed the key but not yet taken its offset. */
  offset?: number;
}

/**
 * Idempotency keys per channel, each kept for a few minutes. A claim is made before an offset is
 * taken, so a repeat never leaves a gap in the stream.
 */
export interface IdempotencyStore {
  /**
   * Claims `key` on `channel` for `messageId` until `expiresAt` (epoch seconds): 'claimed' when no live
   * claim exists (an expired one, or one left without an offset since `staleBefore` epoch seconds, counts
   * as none), else the live claim's record.
   */
  claim(
    channel: string,
    key: string,
    messageId: string,
    times: { expiresAt: number; staleBefore: number },
  ): Promise<'claimed' | IdempotencyRecord>;
  /**
   * Records the offset the claiming publish took, so repeats can answer with it; only while the
   * claim is still `messageId`'s (a stalled publish whose claim was taken over changes nothing).
   */
  settle(channel: string, key: string, messageId: string, offset: number): Promise<void>;
  /** Reads a live claim (strongly consistent); undefined when there is none. */
  lookup(channel: string, key: string): Promise<IdempotencyRecord | undefined>;
  /** Drops `messageId`'s unsettled claim after its publish failed, so a retry is not refused for minutes. */
  release(channel: string, key: string, messageId: string): Promise<void>;
}

/** A channel member as presence lists it and join/leave events name it. */
export interface PresenceMember {
  connectionId: string;
  userId: string | null;
  info: Record<string, unknown> | null;
}

/** What forgetting a connection found: who it was and what it was subscribed to. */
export interface RemovedConnection {
  userId: string | null;
  info: Record<string, unknown> | null;
  /** Every channel the record listed. */
  channels: string[];
}

/**
 * Where connections and channel memberships live. The connection record lists its channels, so
 * forgetting a connection forgets every membership; a channel's members are read without a scan.
 */
export interface ConnectionStore extends PositionStore, HistoryStore, IdempotencyStore {
  /** Records a connection subscribed to `channels` (its automatic ones: no limit applies). */
  add(connection: ConnectionRecord, channels: readonly string[]): Promise<void>;
  /**
   * Subscribes a recorded connection to `channel` unless it already holds `maxSubscriptions`
   * others; atomic per connection, so concurrent subscribes cannot pass the limit together.
   */
  subscribe(subscriber: Subscriber, channel: string, maxSubscriptions: number): Promise<SubscribeResult>;
  /**
   * Ends a membership; a channel never subscribed, or an unknown connection, is fine. Resolves with
   * who the member was when a membership existed (a leave event is due), else undefined.
   */
  unsubscribe(connectionId: string, channel: string): Promise<PresenceMember | undefined>;
  /**
   * Deletes one membership item only, whatever the record says: a membership that outlived its
   * record. Resolves with who the member was, or undefined when there was none.
   */
  dropMembership(connectionId: string, channel: string): Promise<PresenceMember | undefined>;
  /**
   * Forgets a connection: its record and every membership it lists (a membership the record does
   * not list, left by a subscribe racing $disconnect, is ended with `dropMembership`). Absent ids are fine.
   * Resolves with what the record held, to the one caller that deleted it (concurrent removes of
   * one connection: the others get undefined), so leave events go out once.
   */
  remove(connectionId: string): Promise<RemovedConnection | undefined>;
  /**
   * Live (unexpired) members of `channel`, page by page so delivery can start early. Strongly
   * consistent: a subscribe that returned is seen by every fan-out that starts after it.
   */
  members(channel: string): AsyncIterable<Member[]>;
  /** Live members of `channel` with who they are, for presence (strongly consistent). */
  presence(channel: string): Promise<PresenceMember[]>;
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
