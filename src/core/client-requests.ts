import { allows, type Operation } from './capabilities.js';
import {
  DEFAULT_CHANNEL,
  type Namespaces,
  namespaceOf,
  optionsFor,
  personalChannel,
  personalChannelOwner,
} from './channels.js';
import { ConnectionGoneError, InvalidMessageError } from './errors.js';
import { readHistory, recoverSince } from './history.js';
import { type Identity, userRefOf } from './identity.js';
import { announce, forgetConnection, listPresence, type MembershipDeps } from './membership.js';
import type { ConnectionStore, PresenceMember, Sender, StreamPosition, Subscriber } from './ports.js';
import {
  ackFrame,
  type ClientFrame,
  historyFrames,
  pongFrame,
  presenceFrames,
  subscribedFrame,
  unsubscribedFrame,
} from './protocol.js';
import {
  deliverPlacement,
  type Placement,
  type PublishOptions,
  type PublishResult,
  placedAs,
  placePublication,
  streamTtlSeconds,
} from './publishing.js';

/** API Gateway closes a connection after 2 hours; keep its items a little longer than that. */
export const CONNECTION_TTL_SECONDS = 3 * 60 * 60;

/** When the items of a connection accepted at `connectedAt` (epoch ms) lapse, in epoch seconds. */
export function expiresAtFor(connectedAt: number): number {
  return Math.floor(connectedAt / 1000) + CONNECTION_TTL_SECONDS;
}

/** The connection a frame came from, as its route event describes it. */
export interface MessageContext {
  connectionId: string;
  /** When the gateway accepted the connection (epoch ms): memberships lapse with the connection. */
  connectedAt: number;
  identity: Identity;
}

/** What happened to one client frame. */
export type MessageOutcome =
  | { kind: 'published'; channel: string; result: PublishResult }
  /** `recovered` answers a subscribe with `since`; `replayed` publications were sent after it. */
  | { kind: 'subscribed'; channel: string; recovered?: boolean; replayed: number }
  | { kind: 'unsubscribed' | 'history' | 'presence'; channel: string }
  | { kind: 'pong' }
  | { kind: 'rejected'; code: InvalidMessageError['code'] }
  /** The connection had no record (its $disconnect ran first): it was closed so its client reconnects. */
  | { kind: 'closed' };

export interface ClientRequestDeps extends MembershipDeps {
  store: ConnectionStore;
  sender: Sender;
  namespaces: Namespaces;
  maxSubscriptions: number;
}

/**
 * Sends one direct reply; a connection that hung up meanwhile is forgotten, as a fan-out would.
 * False when it was gone: later replies to it would be wasted, and a join for it would be a ghost.
 */
export async function reply(deps: ClientRequestDeps, connectionId: string, payload: string): Promise<boolean> {
  try {
    await deps.sender.send(connectionId, payload);
    return true;
  } catch (error) {
    if (!(error instanceof ConnectionGoneError)) throw error;
    await forgetConnection(connectionId, [], deps);
    return false;
  }
}

/** Sends the frames of a paged reply in order, stopping at a connection found gone. */
async function replyAll(deps: ClientRequestDeps, connectionId: string, payloads: readonly string[]): Promise<boolean> {
  for (const payload of payloads) if (!(await reply(deps, connectionId, payload))) return false;
  return true;
}

/** Carries out one valid client frame; a refusal throws InvalidMessageError, answered by the caller. */
export async function handleClientFrame(
  deps: ClientRequestDeps,
  context: MessageContext,
  frame: ClientFrame,
): Promise<MessageOutcome> {
  const { connectionId, identity } = context;
  switch (frame.action) {
    case 'ping':
      await reply(deps, connectionId, pongFrame(frame.id));
      return { kind: 'pong' };

    case 'subscribe': {
      assertAllowed(identity, frame.channel, 'subscribe');
      const result = await deps.store.subscribe(subscriberOf(context), frame.channel, deps.maxSubscriptions);
      if (result === 'limit') {
        throw new InvalidMessageError(
          'too_many_subscriptions',
          `a connection may hold at most ${deps.maxSubscriptions} subscriptions (the automatic ones included); unsubscribe first`,
        );
      }
      if (result === 'gone') return closeUnrecorded(deps, connectionId);
      // Read after the membership is written: every later publication reaches this connection live.
      const position = await deps.store.position(frame.channel, streamTtlSeconds(frame.channel, deps.namespaces));
      // Recovery reads history: without that capability a client could read from before it joined.
      const mayRecover = allows(identity.capabilities, frame.channel, 'history', identity.userId);
      const { outcome, reachable } = await replyToSubscribe(deps, connectionId, frame.channel, position, frame.id, {
        since: frame.since,
        mayRecover,
      });
      if (result === 'added' && reachable) await announce('join', frame.channel, memberOf(context), deps);
      return outcome;
    }

    case 'unsubscribe': {
      const own = identity.userId === null ? undefined : personalChannel(identity.userId);
      if (frame.channel === own) {
        throw new InvalidMessageError(
          'forbidden',
          `"${own}" is this user's personal channel: the server reaches the user's connections through it`,
        );
      }
      const wasMember = await deps.store.unsubscribe(connectionId, frame.channel);
      await reply(deps, connectionId, unsubscribedFrame(frame.channel, frame.id));
      if (wasMember) await announce('leave', frame.channel, memberOf(context), deps);
      return { kind: 'unsubscribed', channel: frame.channel };
    }

    case 'publish': {
      const { idempotencyKey } = frame;
      const placement = await placeFrom(deps, context, frame.channel, frame.data, { idempotencyKey });
      const { messageId, offset } = placedAs(placement);
      // Acknowledged once kept: the publisher need not wait for every delivery.
      const duplicate = placement.kind === 'duplicate';
      await reply(deps, connectionId, ackFrame(frame.channel, messageId, offset, frame.id, duplicate));
      return { kind: 'published', channel: frame.channel, result: await deliverPlacement(placement, deps) };
    }

    case 'sendmessage': {
      // Today's contract: the default channel, no acknowledgement.
      const placement = await placeFrom(deps, context, DEFAULT_CHANNEL, frame.data);
      return { kind: 'published', channel: DEFAULT_CHANNEL, result: await deliverPlacement(placement, deps) };
    }

    case 'history': {
      assertAllowed(identity, frame.channel, 'history');
      const { limit, since } = frame;
      const { position, publications } = await readHistory(frame.channel, { limit, since }, deps);
      const frames = publications.map((publication) => publication.frame);
      await replyAll(deps, connectionId, historyFrames(frame.channel, position, frames, frame.id));
      return { kind: 'history', channel: frame.channel };
    }

    case 'presence': {
      assertAllowed(identity, frame.channel, 'presence');
      const members = await listPresence(frame.channel, deps);
      await replyAll(deps, connectionId, presenceFrames(frame.channel, members, frame.id));
      return { kind: 'presence', channel: frame.channel };
    }
  }
}

/**
 * Answers a subscribe: `subscribed`, then, when it gave `since`, each missed publication in
 * offset order (or `recovered: false` and nothing, when they cannot all be replayed, or the
 * connection may not read history). `reachable` is false when the connection turned out gone.
 */
async function replyToSubscribe(
  deps: ClientRequestDeps,
  connectionId: string,
  channel: string,
  position: StreamPosition,
  id: string | undefined,
  { since, mayRecover }: { since: StreamPosition | undefined; mayRecover: boolean },
): Promise<{ outcome: MessageOutcome; reachable: boolean }> {
  if (since === undefined) {
    const reachable = await reply(deps, connectionId, subscribedFrame(channel, position, id));
    return { outcome: { kind: 'subscribed', channel, replayed: 0 }, reachable };
  }
  const missed = mayRecover ? await recoverSince(channel, since, position, deps) : undefined;
  const recovered = missed !== undefined;
  // One at a time: API Gateway may reorder concurrent posts, and the offsets say the order anyway.
  const frames = [subscribedFrame(channel, position, id, recovered), ...(missed ?? []).map((p) => p.frame)];
  const reachable = await replyAll(deps, connectionId, frames);
  return { outcome: { kind: 'subscribed', channel, recovered, replayed: missed?.length ?? 0 }, reachable };
}

function placeFrom(
  deps: ClientRequestDeps,
  context: MessageContext,
  channel: string,
  data: unknown,
  options?: PublishOptions,
): Promise<Placement> {
  assertAllowed(context.identity, channel, 'publish');
  if (!optionsFor(channel, deps.namespaces).clientPublish) {
    throw new InvalidMessageError(
      'forbidden',
      `only the server API may publish to "${channel}" (namespace "${namespaceOf(channel)}" has clientPublish off)`,
    );
  }
  const publisher = { from: context.connectionId, user: userRefOf(context.identity) };
  return placePublication(channel, data, publisher, deps.clock.now(), deps, options);
}

function assertAllowed({ capabilities, userId }: Identity, channel: string, operation: Operation): void {
  if (allows(capabilities, channel, operation, userId)) return;
  const owner = personalChannelOwner(channel);
  const why =
    owner !== undefined && owner !== userId
      ? `"${channel}" is another user's personal channel`
      : `this connection's capabilities do not allow ${operation} on "${channel}"`;
  throw new InvalidMessageError('forbidden', why);
}

function memberOf({ connectionId, identity }: MessageContext): PresenceMember {
  return { connectionId, userId: identity.userId, info: identity.info };
}

function subscriberOf({ connectionId, connectedAt, identity }: MessageContext): Subscriber {
  return {
    connectionId,
    connectedAt,
    userId: identity.userId,
    info: identity.info,
    expiresAt: expiresAtFor(connectedAt),
  };
}

/**
 * A connection whose record is gone could never be reached through a channel: close it, so its
 * client reconnects and gets a fresh one. Already closed is the usual case and fine.
 */
async function closeUnrecorded(deps: ClientRequestDeps, connectionId: string): Promise<MessageOutcome> {
  deps.logger.warn('subscribe from a connection without a record; closing it', { connectionId });
  try {
    await deps.sender.close(connectionId);
  } catch (error) {
    if (!(error instanceof ConnectionGoneError)) throw error;
  }
  return { kind: 'closed' };
}
