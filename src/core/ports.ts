/** A connection as the relay records it. Times are epoch milliseconds. */
export interface ConnectionRecord {
  connectionId: string;
  connectedAt: number;
  sourceIp: string;
  /** Epoch seconds after which the record is stale (DynamoDB TTL deletes it, late). */
  expiresAt: number;
}

/** Where connections and room memberships live. */
export interface ConnectionStore {
  /** Records a connection and makes it a member of `room`. */
  add(connection: ConnectionRecord, room: string): Promise<void>;
  /** Forgets a connection and all its memberships; absent ids are not an error. */
  remove(connectionId: string): Promise<void>;
  /** Live (unexpired) member ids of `room`, page by page so delivery can start early. */
  members(room: string): AsyncIterable<string[]>;
}

/** Delivers one text frame to one connection; throws ConnectionGoneError when it is gone. */
export interface Sender {
  send(connectionId: string, payload: string): Promise<void>;
}

/** Epoch milliseconds; injected so tests control time. */
export interface Clock {
  now(): number;
}

/** The subset of a logger the relay uses; console satisfies it. */
export interface Logger {
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}
