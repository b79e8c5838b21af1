import {
  ConnectionGoneError,
  type ConnectionRecord,
  type ConnectionStore,
  type HistoryRange,
  type IdempotencyRecord,
  type KeptPublication,
  type Logger,
  type Member,
  type PresenceMember,
  type RemovedConnection,
  type Sender,
  type StoredPublication,
  type StreamPosition,
  type SubscribeResult,
  type Subscriber,
} from '../../src/core/index.js';

/** An in-memory ConnectionStore that pages like DynamoDB does and keeps the same rules. */
export class FakeStore implements ConnectionStore {
  /** Connection records, with the channels each lists (as the table's record does). */
  readonly connections = new Map<string, ConnectionRecord & { channels: Set<string> }>();
  /** Channel → connection id → its membership. */
  readonly channels = new Map<string, Map<string, Subscriber>>();
  constructor(
    private readonly pageSize = 2,
    private readonly nowSeconds = () => Math.floor(Date.now() / 1000),
  ) {}

  async add(connection: ConnectionRecord, channels: readonly string[]) {
    this.connections.set(connection.connectionId, { ...connection, channels: new Set(channels) });
    const { sourceIp: _, ...subscriber } = connection;
    for (const channel of channels) this.join(subscriber, channel);
  }

  async subscribe(subscriber: Subscriber, channel: string, maxSubscriptions: number): Promise<SubscribeResult> {
    const record = this.connections.get(subscriber.connectionId);
    if (!record) return 'gone';
    const existing = record.channels.has(channel);
    if (!existing && record.channels.size >= maxSubscriptions) return 'limit';
    record.channels.add(channel);
    this.join(subscriber, channel);
    return existing ? 'existing' : 'added';
  }

  async unsubscribe(connectionId: string, channel: string): Promise<PresenceMember | undefined> {
    const member = await this.dropMembership(connectionId, channel);
    this.connections.get(connectionId)?.channels.delete(channel);
    return member;
  }

  async dropMembership(connectionId: string, channel: string): Promise<PresenceMember | undefined> {
    const membership = this.channels.get(channel)?.get(connectionId);
    this.channels.get(channel)?.delete(connectionId);
    return membership && { connectionId, userId: membership.userId, info: membership.info };
  }

  readonly removed: { connectionId: string; channels: readonly string[] }[] = [];

  async remove(connectionId: string): Promise<RemovedConnection | undefined> {
    const record = this.connections.get(connectionId);
    this.removed.push({ connectionId, channels: [...(record?.channels ?? [])] });
    // Only what the record lists, as the table's store can.
    for (const channel of record?.channels ?? []) this.channels.get(channel)?.delete(connectionId);
    this.connections.delete(connectionId);
    return record && { userId: record.userId, info: record.info, channels: [...record.channels] };
  }

  async presence(channel: string): Promise<PresenceMember[]> {
    return [...(this.channels.get(channel)?.values() ?? [])]
      .filter((membership) => membership.expiresAt > this.nowSeconds())
      .map(({ connectionId, userId, info }) => ({ connectionId, userId, info }));
  }

  /** `<channel>#<epoch>` → offset → the kept publication and when it lapses. */
  readonly history = new Map<string, Map<number, StoredPublication & { expiresAt: number }>>();

  async append(channel: string, epoch: string, publication: StoredPublication, ttlSeconds: number) {
    const stream = `${channel}#${epoch}`;
    if (!this.history.has(stream)) this.history.set(stream, new Map());
    this.history.get(stream)!.set(publication.offset, { ...publication, expiresAt: this.nowSeconds() + ttlSeconds });
  }

  async read(channel: string, { epoch, after, upTo, limit }: HistoryRange): Promise<KeptPublication[]> {
    const kept = [...(this.history.get(`${channel}#${epoch}`)?.values() ?? [])]
      .filter(({ offset, expiresAt }) => offset > after && offset <= upTo && expiresAt > this.nowSeconds())
      .sort((a, b) => a.offset - b.offset)
      .map(({ offset, frame, expiresAt }) => ({ offset, frame, expiresAt }));
    return limit > 0 ? kept.slice(-limit) : [];
  }

  /** `<channel>#<key>` → the claim. */
  readonly claims = new Map<string, IdempotencyRecord & { claimedAt: number; expiresAt: number }>();

  async claim(channel: string, key: string, messageId: string, times: { expiresAt: number; staleBefore: number }) {
    const existing = this.claims.get(`${channel}#${key}`);
    const live =
      existing &&
      existing.expiresAt > this.nowSeconds() &&
      (existing.offset !== undefined || existing.claimedAt >= times.staleBefore);
    if (live)
      return { messageId: existing.messageId, ...(existing.offset !== undefined && { offset: existing.offset }) };
    this.claims.set(`${channel}#${key}`, { messageId, claimedAt: this.nowSeconds(), expiresAt: times.expiresAt });
    return 'claimed' as const;
  }

  async settle(channel: string, key: string, messageId: string, offset: number) {
    const claim = this.claims.get(`${channel}#${key}`);
    if (claim?.messageId === messageId) claim.offset = offset;
  }

  async lookup(channel: string, key: string): Promise<IdempotencyRecord | undefined> {
    const claim = this.claims.get(`${channel}#${key}`);
    if (!claim || claim.expiresAt <= this.nowSeconds()) return undefined;
    return { messageId: claim.messageId, ...(claim.offset !== undefined && { offset: claim.offset }) };
  }

  async release(channel: string, key: string, messageId: string) {
    const claim = this.claims.get(`${channel}#${key}`);
    if (claim?.messageId === messageId && claim.offset === undefined) this.claims.delete(`${channel}#${key}`);
  }

  async *members(channel: string): AsyncIterable<Member[]> {
    const live = [...(this.channels.get(channel)?.values() ?? [])]
      .filter((membership) => membership.expiresAt > this.nowSeconds())
      .map(({ connectionId, connectedAt }) => ({ connectionId, connectedAt }));
    for (let i = 0; i < live.length; i += this.pageSize) yield live.slice(i, i + this.pageSize);
  }

  /** Channel → its stream counter; a test may set one expired, as TTL leaves them. */
  readonly streams = new Map<string, StreamPosition & { expiresAt: number }>();
  private epochs = 0;

  async nextPosition(channel: string, ttlSeconds: number): Promise<StreamPosition> {
    return this.advance(channel, 1, ttlSeconds);
  }

  async position(channel: string, ttlSeconds: number): Promise<StreamPosition> {
    return this.advance(channel, 0, ttlSeconds);
  }

  private advance(channel: string, by: number, ttlSeconds: number): StreamPosition {
    const now = this.nowSeconds();
    const live = this.streams.get(channel);
    const current = live && live.expiresAt > now ? live : { offset: 0, epoch: `epoch-${++this.epochs}` };
    const next = { offset: current.offset + by, epoch: current.epoch, expiresAt: now + ttlSeconds };
    this.streams.set(channel, next);
    return { offset: next.offset, epoch: next.epoch };
  }

  /** Connection ids subscribed to `channel`, sorted. */
  membersOf(channel: string): string[] {
    return [...(this.channels.get(channel)?.keys() ?? [])].sort();
  }

  private join(subscriber: Subscriber, channel: string) {
    if (!this.channels.has(channel)) this.channels.set(channel, new Map());
    this.channels.get(channel)!.set(subscriber.connectionId, subscriber);
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
