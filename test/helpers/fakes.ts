import {
  ConnectionGoneError,
  type ConnectionRecord,
  type ConnectionStore,
  type Logger,
  type Member,
  type Sender,
} from '../../src/core/index.js';

/** An in-memory ConnectionStore that pages like DynamoDB does. */
export class FakeStore implements ConnectionStore {
  readonly connections = new Map<string, ConnectionRecord>();
  readonly rooms = new Map<string, Set<string>>();
  constructor(
    private readonly pageSize = 2,
    private readonly nowSeconds = () => Math.floor(Date.now() / 1000),
  ) {}

  async add(connection: ConnectionRecord, room: string) {
    this.connections.set(connection.connectionId, connection);
    if (!this.rooms.has(room)) this.rooms.set(room, new Set());
    this.rooms.get(room)!.add(connection.connectionId);
  }

  readonly removed: { connectionId: string; rooms: string[] }[] = [];

  async remove(connectionId: string, rooms: string[] = []) {
    this.removed.push({ connectionId, rooms });
    this.connections.delete(connectionId);
    for (const members of this.rooms.values()) members.delete(connectionId);
  }

  async *members(room: string): AsyncIterable<Member[]> {
    const live = [...(this.rooms.get(room) ?? [])]
      .map((id) => this.connections.get(id))
      .filter((record): record is ConnectionRecord => (record?.expiresAt ?? 0) > this.nowSeconds())
      .map(({ connectionId, connectedAt }) => ({ connectionId, connectedAt }));
    for (let i = 0; i < live.length; i += this.pageSize) yield live.slice(i, i + this.pageSize);
  }
}

/** Records what it sends; ids in `gone` answer ConnectionGoneError, ids in `failing` a generic error. */
export class FakeSender implements Sender {
  readonly sent: { connectionId: string; payload: string }[] = [];
  readonly gone = new Set<string>();
  readonly failing = new Set<string>();
  inFlight = 0;
  maxInFlight = 0;

  async send(connectionId: string, payload: string) {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((resolve) => setImmediate(resolve));
      if (this.gone.has(connectionId)) throw new ConnectionGoneError(connectionId);
      if (this.failing.has(connectionId)) throw new Error('throttled');
      this.sent.push({ connectionId, payload });
    } finally {
      this.inFlight--;
    }
  }

  readonly closed: string[] = [];

  async close(connectionId: string) {
    if (this.gone.has(connectionId)) throw new ConnectionGoneError(connectionId);
    this.closed.push(connectionId);
    this.gone.add(connectionId);
  }

  framesFor(connectionId: string): any[] {
    return this.sent.filter((s) => s.connectionId === connectionId).map((s) => JSON.parse(s.payload));
  }
}

/** Keeps log lines for assertions. */
export function recordingLogger(): Logger & { lines: { level: string; message: string; details?: unknown }[] } {
  const lines: { level: string; message: string; details?: unknown }[] = [];
  const at = (level: string) => (message: string, details?: unknown) => void lines.push({ level, message, details });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}
