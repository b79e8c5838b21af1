import { assertChannelName, DEFAULT_CHANNEL, type Namespaces, personalChannel } from './channels.js';
import {
  type ClientRequestDeps,
  expiresAtFor,
  handleClientFrame,
  type MessageContext,
  type MessageOutcome,
  reply,
} from './client-requests.js';
import { InvalidMessageError } from './errors.js';
import { type HistoryQuery, type HistoryResult, readHistory } from './history.js';
import type { Identity } from './identity.js';
import { forgetConnection, listPresence } from './membership.js';
import type { Clock, ConnectionStore, Logger, PresenceMember, Sender } from './ports.js';
import { errorFrame, parseFrame, readEnvelope } from './protocol.js';
import { deliverPlacement, type PublishOptions, type PublishResult, placePublication } from './publishing.js';

export {
  CONNECTION_TTL_SECONDS,
  expiresAtFor,
  type MessageContext,
  type MessageOutcome,
} from './client-requests.js';
export { APPEND_SPREAD_SECONDS, type HistoryQuery, type HistoryResult } from './history.js';
export {
  ABANDONED_CLAIM_SECONDS,
  IDEMPOTENCY_WINDOW_SECONDS,
  MAX_MESSAGE_FRAME_BYTES,
  type PublishOptions,
  type PublishResult,
  STREAM_MIN_TTL_SECONDS,
  streamTtlSeconds,
} from './publishing.js';

/** What $connect needs: the store only, so its Lambda bundle carries no sender. */
export interface ConnectionsDeps {
  store: ConnectionStore;
  clock: Clock;
}

export interface RelayDeps extends ConnectionsDeps {
  sender: Sender;
  logger: Logger;
  /** Deliveries in flight per fan-out. */
  fanoutConcurrency?: number;
  /** Namespace options (NAMESPACES); undeclared namespaces get DEFAULT_NAMESPACE_OPTIONS. */
  namespaces?: Namespaces;
  /** Subscriptions per connection, the automatic ones included (MAX_SUBSCRIPTIONS). */
  maxSubscriptions?: number;
}

export interface ConnectInput {
  connectionId: string;
  sourceIp: string;
  /** When the gateway accepted the connection (epoch ms); now when unknown. */
  connectedAt?: number;
  identity: Identity;
}

/** $connect: recording a connection. */
export interface Connections {
  connect(input: ConnectInput): Promise<void>;
}

/** The relay's use cases, independent of AWS and of the transport. */
export interface Relay extends Connections {
  /** $disconnect: forgets the connection and announces its leave in joinLeave channels. */
  disconnect(connectionId: string): Promise<void>;
  /** Handles one raw client frame: carry it out, or send the sender one error frame. */
  message(context: MessageContext, body: string | undefined | null): Promise<MessageOutcome>;
  /**
   * Server API publish (`from` and `user` null); throws InvalidMessageError (invalid_channel,
   * message_too_large, in_progress).
   */
  publish(channel: string, data: unknown, options?: PublishOptions): Promise<PublishResult>;
  /** Server API history: no capability applies; `invalid_request` for a limit over historySize. */
  history(channel: string, query: HistoryQuery): Promise<HistoryResult>;
  /** Server API presence; `forbidden` where the namespace keeps none. */
  presence(channel: string): Promise<{ channel: string; members: PresenceMember[] }>;
  /** Closes a connection at the gateway; throws ConnectionGoneError when it is unknown there. */
  closeConnection(connectionId: string): Promise<void>;
}

/** Deliveries in flight per fan-out unless configured (FANOUT_CONCURRENCY). */
export const DEFAULT_FANOUT_CONCURRENCY = 64;
/** Subscriptions per connection unless configured (MAX_SUBSCRIPTIONS). */
export const DEFAULT_MAX_SUBSCRIPTIONS = 100;

/**
 * Records connections. Every connection joins the default channel, and an authenticated one its
 * personal channel, so the server can reach every connection of a user.
 */
export function createConnections({ store, clock }: ConnectionsDeps): Connections {
  return {
    async connect({ connectionId, sourceIp, connectedAt = clock.now(), identity }) {
      const own = identity.userId === null ? undefined : personalChannel(identity.userId);
      const channels = own === undefined ? [DEFAULT_CHANNEL] : [DEFAULT_CHANNEL, own];
      const record = {
        connectionId,
        connectedAt,
        sourceIp,
        userId: identity.userId,
        info: identity.info,
        expiresAt: expiresAtFor(connectedAt),
      };
      await store.add(record, channels);
    },
  };
}

/** Builds the relay's use cases from its ports. */
export function createRelay(deps: RelayDeps): Relay {
  const requestDeps: ClientRequestDeps = {
    store: deps.store,
    sender: deps.sender,
    logger: deps.logger,
    clock: deps.clock,
    concurrency: deps.fanoutConcurrency ?? DEFAULT_FANOUT_CONCURRENCY,
    namespaces: deps.namespaces ?? {},
    maxSubscriptions: deps.maxSubscriptions ?? DEFAULT_MAX_SUBSCRIPTIONS,
    forget: (connectionId, channel) => forgetConnection(connectionId, [channel], requestDeps),
  };

  return {
    ...createConnections(deps),

    disconnect(connectionId) {
      return forgetConnection(connectionId, [], requestDeps);
    },

    async message(context, body) {
      // Known once the frame is an object with a valid id: every reply after that carries it.
      let id: string | undefined;
      try {
        const envelope = readEnvelope(body);
        id = envelope.id;
        return await handleClientFrame(requestDeps, context, parseFrame(envelope));
      } catch (error) {
        if (!(error instanceof InvalidMessageError)) throw error;
        await reply(requestDeps, context.connectionId, errorFrame(error, id));
        return { kind: 'rejected', code: error.code };
      }
    },

    async publish(channel, data, options) {
      const server = { from: null, user: null };
      const now = deps.clock.now();
      const placement = await placePublication(assertChannelName(channel), data, server, now, requestDeps, options);
      return deliverPlacement(placement, requestDeps);
    },

    history(channel, query) {
      return readHistory(assertChannelName(channel), query, requestDeps);
    },

    async presence(channel) {
      return { channel, members: await listPresence(assertChannelName(channel), requestDeps) };
    },

    closeConnection(connectionId) {
      return deps.sender.close(connectionId);
    },
  };
}
