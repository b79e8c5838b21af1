import { type Namespaces, optionsFor } from './channels.js';
import { InvalidMessageError } from './errors.js';
import type { Clock, ConnectionStore, StoredPublication, StreamPosition } from './ports.js';
import { streamTtlSeconds } from './publishing.js';

/** A history request: the latest `limit` publications after `since`, up to offset `until`. */
export interface HistoryQuery {
  /** 1..historySize; default historySize. */
  limit?: number;
  /** Only publications after this position; another epoch than the stream's reads from its start. */
  since?: StreamPosition;
  /** Only publications at or before this offset (the server API's next page pins its set with it). */
  until?: number;
}

/** The stream's position when read, and the publications asked for, oldest first. */
export interface HistoryResult {
  channel: string;
  position: StreamPosition;
  publications: StoredPublication[];
}

export interface HistoryDeps {
  store: Pick<ConnectionStore, 'position' | 'read'>;
  namespaces: Namespaces;
  clock: Clock;
}

/**
 * How much earlier a later offset can be kept than an earlier one: publications append in any
 * order while they run, and none runs longer than API Gateway's 29 s (the HTTP API's 30 s).
 */
export const APPEND_SPREAD_SECONDS = 60;

/**
 * Reads a channel's kept publications. A channel never published to, or in a namespace that keeps
 * none, has an empty history, not an error. The position is read first and bounds the read, so
 * publications arriving meanwhile do not shift the answer.
 */
export async function readHistory(channel: string, query: HistoryQuery, deps: HistoryDeps): Promise<HistoryResult> {
  const { historySize } = optionsFor(channel, deps.namespaces);
  if (query.limit !== undefined && historySize > 0 && query.limit > historySize) {
    throw new InvalidMessageError(
      'invalid_request',
      `"limit" must be at most ${historySize}, the number of publications "${channel}" keeps (historySize)`,
    );
  }
  const position = await deps.store.position(channel, streamTtlSeconds(channel, deps.namespaces));
  if (historySize === 0) return { channel, position, publications: [] };
  const since = query.since?.epoch === position.epoch ? query.since.offset : 0;
  const kept = await deps.store.read(channel, {
    epoch: position.epoch,
    // Older ones are outside the window even while TTL has not deleted them yet.
    after: Math.max(since, position.offset - historySize),
    upTo: Math.min(position.offset, query.until ?? position.offset),
    limit: query.limit ?? historySize,
  });
  return { channel, position, publications: kept.map(({ offset, frame }) => ({ offset, frame })) };
}

/**
 * What a subscriber that last got `since` missed, up to `position` (read after its membership was
 * written, so anything later reaches it live): the publications to replay, oldest first, or
 * undefined when they cannot all be recovered (another epoch, a position the stream never had,
 * further back than historySize, or expired).
 *
 * Whether anything expired is decided by the publication at `since` itself (at offset 1 when
 * `since` is 0): every later one was appended at most APPEND_SPREAD_SECONDS before it, so while it
 * is kept for that long yet, they are all still kept. A gap inside the range is a publish that
 * failed after taking its offset: it was never acknowledged or delivered, so there is nothing to
 * recover for it.
 */
export async function recoverSince(
  channel: string,
  since: StreamPosition,
  position: StreamPosition,
  deps: HistoryDeps,
): Promise<StoredPublication[] | undefined> {
  if (since.epoch !== position.epoch || since.offset > position.offset) return undefined;
  if (since.offset === position.offset) return [];
  const { historySize } = optionsFor(channel, deps.namespaces);
  if (position.offset - since.offset > historySize) return undefined;
  const anchor = Math.max(since.offset, 1);
  const kept = await deps.store.read(channel, {
    epoch: position.epoch,
    after: anchor - 1,
    upTo: position.offset,
    limit: position.offset - anchor + 1,
  });
  const keptUntil = Math.floor(deps.clock.now() / 1000) + APPEND_SPREAD_SECONDS;
  if (kept[0]?.offset !== anchor || kept[0].expiresAt <= keptUntil) return undefined;
  const missed = since.offset === 0 ? kept : kept.slice(1);
  return missed.map(({ offset, frame }) => ({ offset, frame }));
}
