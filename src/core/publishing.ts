import { randomUUID } from 'node:crypto';
import { InvalidMessageError } from './errors.js';
import { type FanoutDeps, type FanoutResult, fanOut } from './fanout.js';
import type { UserRef } from './identity.js';
import type { ConnectionStore } from './ports.js';
import { messageFrame } from './protocol.js';

/**
 * API Gateway's WebSocket message payload quota (128 KB): PostToConnection refuses larger data,
 * and the local emulator enforces the same number on incoming messages.
 */
export const API_GATEWAY_MAX_MESSAGE_BYTES = 128 * 1024;

/** How a publication went: its id, and the fan-out's counts. */
export interface PublishResult extends FanoutResult {
  messageId: string;
}

/** A publication ready to deliver: checked, serialised once (the same bytes go to every member). */
export interface Publication {
  channel: string;
  messageId: string;
  payload: string;
}

/** Who published: a connection and its user, or (both null) the server API. */
export interface Publisher {
  from: string | null;
  user: UserRef;
}

/**
 * Builds the message frame for `data` on `channel`. Throws `message_too_large` before any
 * delivery: every PostToConnection would fail with PayloadTooLarge.
 */
export function preparePublication(channel: string, data: unknown, publisher: Publisher, now: number): Publication {
  const messageId = randomUUID();
  const payload = messageFrame({ channel, id: messageId, data, from: publisher.from, user: publisher.user, ts: now });
  const bytes = Buffer.byteLength(payload);
  if (bytes > API_GATEWAY_MAX_MESSAGE_BYTES) {
    throw new InvalidMessageError(
      'message_too_large',
      `the message frame would be ${bytes} bytes; the limit is ${API_GATEWAY_MAX_MESSAGE_BYTES}`,
    );
  }
  return { channel, messageId, payload };
}

/** Delivers a publication to its channel's members only: one Query on the channel, paged. */
export async function deliverPublication(
  { channel, messageId, payload }: Publication,
  deps: FanoutDeps & { store: Pick<ConnectionStore, 'members' | 'remove'> },
): Promise<PublishResult> {
  const result = await fanOut(channel, deps.store.members(channel), payload, deps);
  return { messageId, ...result };
}
