/** A connection as the relay records it. Times are epoch milliseconds. */
export interface ConnectionRecord {
  connectionId: string;
  connectedAt: number;
  sourceIp: string;
  /** Epoch seconds after which the record is stale (DynamoDB TTL deletes it, late). */
  expiresAt: number;
}

/** A room member as a broadcast sees it. */
export interface Member {
  connectionId: string;
  /** Epoch ms; a connection younger than its $connect may not be reachable yet. */
  connectedAt: number;
}

/** Where connections and room memberships live. */
export interface ConnectionStore {
  /** Records a connection and makes it a member of `room`. */
  add(connection: ConnectionRecord, room: string): Promise<void>;
  /**
   * Forgets a connection: its record and every membership it lists, plus memberships in `rooms`
   * (a membership can outlive its record when a $connect failed halfway). Absent ids are fine.
   */
  remove(connectionId: string, rooms?: string[]): Promise<void>;
  /** Live (unexpired) members of `room`, page by page so delivery can start early. */
  members(room: string): AsyncIterable<Member[]>;
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
