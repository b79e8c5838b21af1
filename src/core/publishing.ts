import { randomUUID } from 'node:crypto';
import { type Namespaces, optionsFor } from './channels.js';
import { InvalidMessageError } from './errors.js';
import { type FanoutDeps, type FanoutResult, fanOut } from './fanout.js';
import type { UserRef } from './identity.js';
import type { ConnectionStore, PositionStore } from './ports.js';
import { messageFrame } from './protocol.js';

/**
 * API Gateway's WebSocket message payload quota (128 KB): PostToConnection refuses larger data,
 * and the local emulator enforces the same number on incoming messages.
 */
export const API_GATEWAY_MAX_MESSAGE_BYTES = 128 * 1024;

/**
 * How long a channel's stream counter outlives its last publication or subscribe, at least:
 * a day, so a channel without history keeps its epoch across a quiet night.
 */
export const STREAM_MIN_TTL_SECONDS = 24 * 60 * 60;

/** The counter's TTL: the namespace's history window, or a day when that is shorter. */
export function streamTtlSeconds(channel: string, namespaces: Namespaces): number {
  return Math.max(optionsFor(channel, namespaces).historyTtlSeconds, STREAM_MIN_TTL_SECONDS);
}

/** How a publication went: its id and offset, and the fan-out's counts. */
export interface PublishResult extends FanoutResult {
  messageId: string;
  offset: number;
}

/** A publication ready to deliver: checked, placed, serialised once (the same bytes go to every member). */
export interface Publication {
  channel: string;
  messageId: string;
  offset: number;
  epoch: string;
  payload: string;
}

/** Who published: a connection and its user, or (both null) the server API. */
export interface Publisher {
  from: string | null;
  user: UserRef;
}

/** What placing a publication in its channel's stream needs. */
export interface PlacementDeps {
  store: Pick<PositionStore, 'nextPosition'>;
  namespaces: Namespaces;
}

/** The largest position a frame can carry: the size check leaves room for it. */
const LARGEST_POSITION = { offset: Number.MAX_SAFE_INTEGER, epoch: randomUUID() };

/**
 * Builds the message frame for `data` on `channel` and takes its offset. Throws
 * `message_too_large` before taking an offset (a refused publication leaves no gap) and before
 * any delivery: every PostToConnection would fail with PayloadTooLarge.
 */
export async function preparePublication(
  channel: string,
  data: unknown,
  publisher: Publisher,
  now: number,
  deps: PlacementDeps,
): Promise<Publication> {
  const messageId = randomUUID();
  const fields = { channel, id: messageId, data, from: publisher.from, user: publisher.user, ts: now };
  const bytes = Buffer.byteLength(messageFrame({ ...fields, ...LARGEST_POSITION }));
  if (bytes > API_GATEWAY_MAX_MESSAGE_BYTES) {
    throw new InvalidMessageError(
      'message_too_large',
      `the message frame would be ${bytes} bytes; the limit is ${API_GATEWAY_MAX_MESSAGE_BYTES}`,
    );
  }
  const { offset, epoch } = await deps.store.nextPosition(channel, streamTtlSeconds(channel, deps.namespaces));
  return { channel, messageId, offset, epoch, payload: messageFrame({ ...fields, offset, epoch }) };
}

/** Delivers a publication to its channel's members only: one Query on the channel, paged. */
export async function deliverPublication(
  { channel, messageId, offset, payload }: Publication,
  deps: FanoutDeps & { store: Pick<ConnectionStore, 'members' | 'remove'> },
): Promise<PublishResult> {
  const result = await fanOut(channel, deps.store.members(channel), payload, deps);
  return { messageId, offset, ...result };
}
