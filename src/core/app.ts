import { randomUUID } from 'node:crypto';
import { ConnectionGoneError, InvalidMessageError } from './errors.js';
import { type FanoutResult, fanOut } from './fanout.js';
import type { Clock, ConnectionStore, Logger, Sender } from './ports.js';
import { errorFrame, type MessageFrame, parseClientFrame } from './protocol.js';

/** Every connection joins this room until rooms can be chosen. */
export const DEFAULT_ROOM = 'default';

/** What connect and disconnect need: the store only, so their Lambda bundles carry no sender. */
export interface ConnectionsDeps {
  store: ConnectionStore;
  clock: Clock;
}

export interface RelayDeps extends ConnectionsDeps {
  sender: Sender;
  logger: Logger;
  /** Deliveries in flight per broadcast. */
  fanoutConcurrency?: number;
}

export interface ConnectInput {
  connectionId: string;
  sourceIp: string;
  /** When the gateway accepted the connection (epoch ms); now when unknown. */
  connectedAt?: number;
}

/** What happened to one client frame. */
export type MessageOutcome = { kind: 'broadcast'; result: FanoutResult } | { kind: 'rejected'; code: string };

/** The connection lifecycle: $connect and $disconnect. */
export interface Connections {
  connect(input: ConnectInput): Promise<void>;
  disconnect(connectionId: string): Promise<void>;
}

/** The relay's use cases, independent of AWS and of the transport. */
export interface Relay extends Connections {
  /** Handles one raw client frame: broadcast it, or send the sender an error frame. */
  message(connectionId: string, body: string | undefined | null): Promise<MessageOutcome>;
  /** Server-side publish to the default room. */
  publish(data: unknown): Promise<FanoutResult>;
}

/** API Gateway closes a connection after 2 hours; keep the record a little longer than that. */
const CONNECTION_TTL_SECONDS = 3 * 60 * 60;
/** Deliveries in flight per broadcast unless configured (FANOUT_CONCURRENCY). */
export const DEFAULT_FANOUT_CONCURRENCY = 64;
/**
 * API Gateway's WebSocket message payload quota (128 KB): PostToConnection refuses larger data,
 * and the local emulator enforces the same number on incoming messages.
 */
export const API_GATEWAY_MAX_MESSAGE_BYTES = 128 * 1024;

/** Records and forgets connections; every connection joins the default room. */
export function createConnections({ store, clock }: ConnectionsDeps): Connections {
  return {
    async connect({ connectionId, sourceIp, connectedAt = clock.now() }) {
      const expiresAt = Math.floor(connectedAt / 1000) + CONNECTION_TTL_SECONDS;
      await store.add({ connectionId, connectedAt, sourceIp, expiresAt }, DEFAULT_ROOM);
    },

    async disconnect(connectionId) {
      await store.remove(connectionId);
    },
  };
}

/** Builds the relay's use cases from its ports. */
export function createRelay(deps: RelayDeps): Relay {
  const fanoutDeps = {
    sender: deps.sender,
    store: deps.store,
    logger: deps.logger,
    clock: deps.clock,
    concurrency: deps.fanoutConcurrency ?? DEFAULT_FANOUT_CONCURRENCY,
  };

  const broadcast = async (data: unknown, from: string | null): Promise<FanoutResult> => {
    const ts = deps.clock.now();
    const frame: MessageFrame = { type: 'message', data, from, id: randomUUID(), ts };
    // Serialise once: the same bytes go to every recipient.
    const payload = JSON.stringify(frame);
    // Checked before any delivery: every PostToConnection would fail with PayloadTooLarge.
    const bytes = Buffer.byteLength(payload);
    if (bytes > API_GATEWAY_MAX_MESSAGE_BYTES) {
      throw new InvalidMessageError(
        'message_too_large',
        `the message frame would be ${bytes} bytes; the limit is ${API_GATEWAY_MAX_MESSAGE_BYTES}`,
      );
    }
    return fanOut(DEFAULT_ROOM, deps.store.members(DEFAULT_ROOM), payload, fanoutDeps);
  };

  const replyWithError = async (connectionId: string, error: InvalidMessageError): Promise<void> => {
    try {
      await deps.sender.send(connectionId, errorFrame(error));
    } catch (sendError) {
      // The sender hung up right after sending: forget it, as a broadcast would.
      if (!(sendError instanceof ConnectionGoneError)) throw sendError;
      await deps.store.remove(connectionId);
    }
  };

  return {
    ...createConnections(deps),

    async message(connectionId, body) {
      try {
        const frame = parseClientFrame(body);
        return { kind: 'broadcast', result: await broadcast(frame.data, connectionId) };
      } catch (error) {
        if (!(error instanceof InvalidMessageError)) throw error;
        await replyWithError(connectionId, error);
        return { kind: 'rejected', code: error.code };
      }
    },

    publish(data) {
      return broadcast(data, null);
    },
  };
}
