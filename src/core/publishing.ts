import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Namespaces, optionsFor } from './channels.js';
import { InvalidMessageError } from './errors.js';
import { type FanoutDeps, type FanoutResult, fanOut } from './fanout.js';
import type { UserRef } from './identity.js';
import { REPLY_PAGE_BYTES } from './paging.js';
import type { ConnectionStore, HistoryStore, IdempotencyStore, Logger, PositionStore } from './ports.js';
import { messageFrame } from './protocol.js';

/**
 * The largest message frame: API Gateway's 128 KB less room for a history page's envelope, so
 * every kept publication can be replayed in a history reply.
 */
export const MAX_MESSAGE_FRAME_BYTES = REPLY_PAGE_BYTES;

/**
 * How long a channel's stream counter outlives its last publication or subscribe, at least:
 * a day, so a channel without history keeps its epoch across a quiet night.
 */
export const STREAM_MIN_TTL_SECONDS = 24 * 60 * 60;

/** A repeated idempotency key within this window is answered from the first publish. */
export const IDEMPOTENCY_WINDOW_SECONDS = 5 * 60;

/**
 * A claim left without an offset this long belongs to a publish that died (API Gateway gives a
 * route 29 s), so a retry may take it over.
 */
export const ABANDONED_CLAIM_SECONDS = 30;

/** A repeat arriving while the first publish is being placed waits for its offset this long, then gets in_progress. */
const REPEAT_WAIT = { polls: 10, intervalMs: 100 };

/** The counter's TTL: the namespace's history window, or a day when that is shorter. */
export function streamTtlSeconds(channel: string, namespaces: Namespaces): number {
  return Math.max(optionsFor(channel, namespaces).historyTtlSeconds, STREAM_MIN_TTL_SECONDS);
}

/** How a publication went: its id and offset, and the fan-out's counts; `duplicate` for a repeated idempotency key. */
export interface PublishResult extends FanoutResult {
  messageId: string;
  offset: number;
  duplicate?: true;
}

/** A publication ready to deliver: checked, placed, kept, serialised once (the same bytes go to every member). */
export interface Publication {
  channel: string;
  messageId: string;
  offset: number;
  epoch: string;
  payload: string;
}

/** What placing a publication came to: a new one to deliver, or the earlier one its idempotency key names. */
export type Placement =
  | { kind: 'new'; publication: Publication }
  | { kind: 'duplicate'; messageId: string; offset: number };

/** Who published: a connection and its user, or (both null) the server API. */
export interface Publisher {
  from: string | null;
  user: UserRef;
}

export interface PublishOptions {
  /** At most 64 characters; a repeat on the same channel within 5 minutes is answered, not published. */
  idempotencyKey?: string;
}

/** What placing a publication in its channel's stream needs. */
export interface PlacementDeps {
  store: Pick<PositionStore, 'nextPosition'> & Pick<HistoryStore, 'append'> & IdempotencyStore;
  namespaces: Namespaces;
  logger: Logger;
}

/** The largest position a frame can carry: the size check leaves room for it. */
const LARGEST_POSITION = { offset: Number.MAX_SAFE_INTEGER, epoch: randomUUID() };

/**
 * Builds the message frame for `data` on `channel`, takes its offset and keeps it in history
 * (namespaces with historySize), all before the caller acknowledges it. `message_too_large` is
 * thrown before anything is written (a refused publication leaves no gap); a repeated
 * idempotency key is answered from the first publish before an offset is taken (no gap either).
 */
export async function placePublication(
  channel: string,
  data: unknown,
  publisher: Publisher,
  now: number,
  deps: PlacementDeps,
  { idempotencyKey }: PublishOptions = {},
): Promise<Placement> {
  const messageId = randomUUID();
  const fields = { channel, id: messageId, data, from: publisher.from, user: publisher.user, ts: now };
  const bytes = Buffer.byteLength(messageFrame({ ...fields, ...LARGEST_POSITION }));
  if (bytes > MAX_MESSAGE_FRAME_BYTES) {
    throw new InvalidMessageError(
      'message_too_large',
      `the message frame would be ${bytes} bytes; the limit is ${MAX_MESSAGE_FRAME_BYTES}`,
    );
  }
  if (idempotencyKey !== undefined) {
    const earlier = await claimKey(channel, idempotencyKey, messageId, now, deps.store);
    if (earlier) return { kind: 'duplicate', ...earlier };
  }
  let publication: Publication;
  try {
    const options = optionsFor(channel, deps.namespaces);
    const { offset, epoch } = await deps.store.nextPosition(channel, streamTtlSeconds(channel, deps.namespaces));
    publication = { channel, messageId, offset, epoch, payload: messageFrame({ ...fields, offset, epoch }) };
    if (options.historySize > 0) {
      await deps.store.append(channel, epoch, { offset, frame: publication.payload }, options.historyTtlSeconds);
    }
  } catch (error) {
    // Nothing kept: free the key so the client's retry publishes instead of waiting out the claim.
    if (idempotencyKey !== undefined) {
      await deps.store.release(channel, idempotencyKey, messageId).catch((cause: unknown) => {
        deps.logger.warn('could not release an idempotency key', { channel, error: cause });
      });
    }
    throw error;
  }
  if (idempotencyKey !== undefined) await settleKey(publication, idempotencyKey, deps);
  return { kind: 'new', publication };
}

/**
 * Records the offset on the key, last: a repeat answered with it finds the publication kept. Once
 * kept, the publication is delivered even when this fails, rather than refused and published again
 * by the retry; repeats then wait out the claim (in_progress) until it counts as abandoned.
 */
async function settleKey({ channel, messageId, offset }: Publication, key: string, deps: PlacementDeps) {
  try {
    await deps.store.settle(channel, key, messageId, offset);
  } catch (error) {
    deps.logger.warn('could not record the offset of an idempotency key', { channel, offset, error });
  }
}

/**
 * Claims the key for this publish; or, when an earlier publish holds it, that one's id and
 * offset, waiting briefly for the offset when the earlier one is still being placed.
 */
async function claimKey(
  channel: string,
  key: string,
  messageId: string,
  now: number,
  store: IdempotencyStore,
): Promise<{ messageId: string; offset: number } | undefined> {
  const nowSeconds = Math.floor(now / 1000);
  const times = {
    expiresAt: nowSeconds + IDEMPOTENCY_WINDOW_SECONDS,
    staleBefore: nowSeconds - ABANDONED_CLAIM_SECONDS,
  };
  let claim = await store.claim(channel, key, messageId, times);
  for (let polls = 0; claim !== 'claimed'; polls++) {
    if (claim.offset !== undefined) return { messageId: claim.messageId, offset: claim.offset };
    if (polls >= REPEAT_WAIT.polls) {
      throw new InvalidMessageError(
        'in_progress',
        `a publish with idempotencyKey "${key}" on "${channel}" is still being placed; retry shortly`,
      );
    }
    await sleep(REPEAT_WAIT.intervalMs);
    // Released meanwhile (the first publish failed): this one takes the key.
    claim = (await store.lookup(channel, key)) ?? (await store.claim(channel, key, messageId, times));
  }
  return undefined;
}

/** Delivers a placed publication to its channel's members only (one Query on the channel, paged); a duplicate to no one. */
export async function deliverPlacement(
  placement: Placement,
  deps: FanoutDeps & { store: Pick<ConnectionStore, 'members'> },
): Promise<PublishResult> {
  if (placement.kind === 'duplicate') {
    const { messageId, offset } = placement;
    return { messageId, offset, delivered: 0, gone: 0, failed: 0, duplicate: true };
  }
  const { channel, messageId, offset, payload } = placement.publication;
  const result = await fanOut(channel, deps.store.members(channel), payload, deps);
  return { messageId, offset, ...result };
}

/** The id and offset an ack names, for a new publication or a duplicate alike. */
export function placedAs(placement: Placement): { messageId: string; offset: number } {
  return placement.kind === 'new' ? placement.publication : placement;
}
