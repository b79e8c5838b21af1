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
import type { FanoutDeps } from './fanout.js';
import { type Identity, userRefOf } from './identity.js';
import type { ConnectionStore, Sender, Subscriber } from './ports.js';
import { ackFrame, type ClientFrame, pongFrame, subscribedFrame, unsubscribedFrame } from './protocol.js';
import { deliverPublication, type PublishResult, preparePublication, streamTtlSeconds } from './publishing.js';

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
  | { kind: 'subscribed' | 'unsubscribed'; channel: string }
  | { kind: 'pong' }
  | { kind: 'rejected'; code: InvalidMessageError['code'] }
  /** The connection had no record (its $disconnect ran first): it was closed so its client reconnects. */
  | { kind: 'closed' };

export interface ClientRequestDeps extends FanoutDeps {
  store: ConnectionStore;
  sender: Sender;
  namespaces: Namespaces;
  maxSubscriptions: number;
}

/** Sends one direct reply; a connection that hung up meanwhile is forgotten, as a fan-out would. */
export async function reply(deps: ClientRequestDeps, connectionId: string, payload: string): Promise<void> {
  try {
    await deps.sender.send(connectionId, payload);
  } catch (error) {
    if (!(error instanceof ConnectionGoneError)) throw error;
    await deps.store.remove(connectionId);
  }
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
      const position = await deps.store.position(frame.channel, streamTtlSeconds(frame.channel, deps.namespaces));
      await reply(deps, connectionId, subscribedFrame(frame.channel, position, frame.id));
      return { kind: 'subscribed', channel: frame.channel };
    }

    case 'unsubscribe': {
      const own = identity.userId === null ? undefined : personalChannel(identity.userId);
      if (frame.channel === own) {
        throw new InvalidMessageError(
          'forbidden',
          `"${own}" is this user's personal channel: the server reaches the user's connections through it`,
        );
      }
      await deps.store.unsubscribe(connectionId, frame.channel);
      await reply(deps, connectionId, unsubscribedFrame(frame.channel, frame.id));
      return { kind: 'unsubscribed', channel: frame.channel };
    }

    case 'publish': {
      const publication = await preparePublicationFrom(deps, context, frame.channel, frame.data);
      // Acknowledged once accepted: the publisher need not wait for every delivery.
      await reply(deps, connectionId, ackFrame(frame.channel, publication.messageId, publication.offset, frame.id));
      return { kind: 'published', channel: frame.channel, result: await deliverPublication(publication, deps) };
    }

    case 'sendmessage': {
      // Today's contract: the default channel, no acknowledgement.
      const publication = await preparePublicationFrom(deps, context, DEFAULT_CHANNEL, frame.data);
      return { kind: 'published', channel: DEFAULT_CHANNEL, result: await deliverPublication(publication, deps) };
    }
  }
}

function preparePublicationFrom(deps: ClientRequestDeps, context: MessageContext, channel: string, data: unknown) {
  assertAllowed(context.identity, channel, 'publish');
  if (!optionsFor(channel, deps.namespaces).clientPublish) {
    throw new InvalidMessageError(
      'forbidden',
      `only the server API may publish to "${channel}" (namespace "${namespaceOf(channel)}" has clientPublish off)`,
    );
  }
  const publisher = { from: context.connectionId, user: userRefOf(context.identity) };
  return preparePublication(channel, data, publisher, deps.clock.now(), deps);
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
