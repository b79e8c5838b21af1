import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { ServerRelay } from '../../src/aws/http-api.js';
import {
  API_GATEWAY_MAX_MESSAGE_BYTES,
  assertChannelName,
  ConnectionGoneError,
  type HistoryQuery,
  InvalidMessageError,
  namespaceOf,
  type PresenceMember,
  type PublishResult,
  type StoredPublication,
} from '../../src/core/index.js';
import { FakeSender } from '../helpers/fakes.js';

/** The fake's one stream: every channel counts in it, as a channel that never expired does. */
export const EPOCH = 'e1';
/** Publications kept per `chat:` channel; other namespaces keep none and have no presence (serverless.yml). */
export const HISTORY_SIZE = 100;

/** What the HTTP layer handed to the relay. */
export interface Published {
  channel: string;
  data: unknown;
  idempotencyKey?: string;
}

/**
 * The relay's server API as the issue 12 brief's contract says (publish checks the channel and the
 * frame's size, answers a repeated idempotency key as a duplicate; history reads the latest `limit`
 * in (since, until] of `chat:` channels; presence lists `chat:` members only; closing an unknown
 * connection is ConnectionGoneError), over FakeSender: what the HTTP layer asks of it and how it
 * answers are under test here, the relay itself in test/unit/relay.test.ts.
 */
export function fakeRelay(sender = new FakeSender()) {
  const members = new Map<string, Set<string>>();
  const identities = new Map<string, PresenceMember>();
  const published: Published[] = [];
  const reads: { channel: string; query?: HistoryQuery }[] = [];
  const connections = new Set<string>();
  const streams = new Map<string, StoredPublication[]>();
  const firstByKey = new Map<string, PublishResult>();
  const placing = new Set<string>();

  const relay: ServerRelay = {
    async publish(channel, data, options = {}) {
      assertChannelName(channel);
      const { idempotencyKey } = options;
      const keyed = `${channel}#${idempotencyKey}`;
      if (idempotencyKey !== undefined && placing.has(keyed)) {
        throw new InvalidMessageError('in_progress', 'the first publish is still being placed');
      }
      const first = idempotencyKey === undefined ? undefined : firstByKey.get(keyed);
      if (first) return { ...first, delivered: 0, gone: 0, failed: 0, duplicate: true };
      const stream = streams.get(channel) ?? [];
      const messageId = randomUUID();
      const offset = stream.length + 1;
      const fields = { channel, id: messageId, data, from: null, user: null, ts: 1, offset, epoch: EPOCH };
      const frame = JSON.stringify({ type: 'message', ...fields });
      const bytes = Buffer.byteLength(frame);
      if (bytes > API_GATEWAY_MAX_MESSAGE_BYTES) {
        throw new InvalidMessageError('message_too_large', `the message is ${bytes} bytes; at most 131072`);
      }
      streams.set(channel, [...stream, { offset, frame }]);
      published.push({ channel, data, ...(idempotencyKey !== undefined && { idempotencyKey }) });
      const result = { messageId, offset, delivered: 0, gone: 0, failed: 0 };
      for (const connectionId of members.get(channel) ?? []) {
        await sender.send(connectionId, frame).then(
          () => result.delivered++,
          (error: unknown) => (error instanceof ConnectionGoneError ? result.gone++ : result.failed++),
        );
      }
      if (idempotencyKey !== undefined) firstByKey.set(keyed, result);
      return result;
    },

    async history(channel, query) {
      reads.push({ channel, query });
      const stream = streams.get(channel) ?? [];
      const position = { offset: stream.length, epoch: EPOCH };
      if (namespaceOf(channel) !== 'chat') return { channel, position, publications: [] };
      const { limit = HISTORY_SIZE, since, until = position.offset } = query;
      if (limit > HISTORY_SIZE) {
        throw new InvalidMessageError('invalid_request', `"limit" must be at most historySize (${HISTORY_SIZE})`);
      }
      // Another epoch's offset means nothing here: read from the stream's start.
      const after = since?.epoch === EPOCH ? since.offset : 0;
      const upTo = Math.min(until, position.offset);
      const range = stream.filter(({ offset }) => offset > after && offset <= upTo);
      return { channel, position, publications: range.slice(-limit) };
    },

    async presence(channel) {
      reads.push({ channel });
      if (namespaceOf(channel) !== 'chat') {
        throw new InvalidMessageError('forbidden', `the namespace of ${channel} keeps no presence`);
      }
      const ids = [...(members.get(channel) ?? [])];
      return { channel, members: ids.map((connectionId) => identities.get(connectionId)!) };
    },

    async closeConnection(connectionId) {
      if (!connections.delete(connectionId)) throw new ConnectionGoneError(connectionId);
      await sender.close(connectionId);
    },
  };

  /** A connection, as presence lists it, subscribed to `channels`. */
  const connectAs = (member: PresenceMember, ...channels: string[]) => {
    connections.add(member.connectionId);
    identities.set(member.connectionId, member);
    for (const channel of channels) members.set(channel, (members.get(channel) ?? new Set()).add(member.connectionId));
  };

  return {
    relay,
    sender,
    published,
    /** The history and presence reads the relay was asked for. */
    reads,
    connectAs,
    /** An anonymous connection subscribed to `channels`. */
    connect: (connectionId: string, ...channels: string[]) =>
      connectAs({ connectionId, userId: null, info: null }, ...channels),
    /** Holds `key` on `channel` as a first publish still taking its offset: repeats meet `in_progress`. */
    placing(channel: string, key: string) {
      placing.add(`${channel}#${key}`);
    },
  };
}

/** Every 4xx/5xx body is `{"error": <code>, "message": <text>}` and nothing else. */
export function expectError(response: LightMyRequestResponse, statusCode: number, error: string): string {
  expect({ statusCode: response.statusCode, body: response.json() }).toEqual({
    statusCode,
    body: { error, message: expect.any(String) },
  });
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  return response.json().message;
}

export const JSON_TYPE = { 'content-type': 'application/json' };
