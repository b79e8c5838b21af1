import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import { type Static, Type } from 'typebox';
import {
  type HistoryQuery,
  type HistoryResult,
  InvalidMessageError,
  MAX_EPOCH_LENGTH,
  pageByBytes,
  REPLY_PAGE_BYTES,
  type StreamPosition,
} from '../core/index.js';
import type { ServerRelay } from './http-api.js';
import { ErrorBody } from './http-errors.js';
import { type OnRequest, requireChannelName } from './http-guards.js';

/** The Fastify app the HTTP API builds: TypeBox schemas type each route's request. */
export type HttpApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

const CHANNEL_PARAMS = Type.Object({ channel: Type.String() });
/** Strings, as a query string has them: the app coerces nothing, so the numbers are parsed below. */
const HISTORY_QUERY = Type.Object({
  limit: Type.Optional(Type.String()),
  since: Type.Optional(Type.String()),
  epoch: Type.Optional(Type.String()),
  until: Type.Optional(Type.String()),
});
const PRESENCE_RESPONSE = Type.Object({
  channel: Type.String(),
  members: Type.Array(
    Type.Object({
      connectionId: Type.String(),
      userId: Type.Union([Type.String(), Type.Null()]),
      info: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    }),
  ),
});
const ERRORS = { '4xx': ErrorBody, '5xx': ErrorBody };

/** `GET /channels/{c}/history` and `GET /channels/{c}/presence`, behind the same bearer as publishing. */
export function addChannelReadRoutes(
  app: HttpApp,
  relay: Pick<ServerRelay, 'history' | 'presence'>,
  bearer: OnRequest,
): void {
  app.get(
    '/channels/:channel/history',
    {
      // No response schema: the body is built as text (below), which Fastify sends as it is.
      schema: { params: CHANNEL_PARAMS, querystring: HISTORY_QUERY },
      onRequest: [bearer, requireChannelName],
    },
    async (request, reply) => {
      const query = parseHistoryQuery(request.query);
      const result = await relay.history(request.params.channel, query);
      // The frames are JSON text already: embedded as they are, not parsed and serialised again.
      return reply.type('application/json').send(firstHistoryPage(result, query.until));
    },
  );

  app.get(
    '/channels/:channel/presence',
    {
      schema: { params: CHANNEL_PARAMS, response: { 200: PRESENCE_RESPONSE, ...ERRORS } },
      onRequest: [bearer, requireChannelName],
    },
    async (request) => relay.presence(request.params.channel),
  );
}

/** The query's numbers are decimal text; each is checked by name, and `since` needs its `epoch`. */
function parseHistoryQuery({ limit, since, epoch, until }: Static<typeof HISTORY_QUERY>): HistoryQuery {
  if ((since === undefined) !== (epoch === undefined)) {
    throw new InvalidMessageError(
      'invalid_request',
      `"since" and "epoch" go together (an offset counts in one epoch): give both or neither`,
    );
  }
  return {
    ...(limit !== undefined && { limit: decimal('limit', limit, 1) }),
    ...(since !== undefined && epoch !== undefined && { since: sincePosition(since, epoch) }),
    ...(until !== undefined && { until: decimal('until', until, 0) }),
  };
}

function sincePosition(since: string, epoch: string): StreamPosition {
  if (epoch.length === 0 || epoch.length > MAX_EPOCH_LENGTH) {
    throw new InvalidMessageError('invalid_request', `"epoch" must be 1-${MAX_EPOCH_LENGTH} characters`);
  }
  return { offset: decimal('since', since, 0), epoch };
}

/** `text` as a safe integer of at least `min`: digits only, so `1e3`, `0x10`, `-1` and `1.5` are refused. */
function decimal(name: string, text: string, min: number): number {
  const value = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isSafeInteger(value) && value >= min) return value;
  throw new InvalidMessageError(
    'invalid_request',
    `"${name}" must be a decimal integer from ${min} to ${Number.MAX_SAFE_INTEGER}, not "${text.slice(0, 32)}"`,
  );
}

/**
 * The history body: the first page of publications (at most REPLY_PAGE_BYTES of frames, as a WebSocket
 * history page holds) and, when more are left, `next`, the URL of the rest. `next` pins the upper end
 * (`until`), so publications arriving meanwhile do not shift the pages.
 */
function firstHistoryPage({ channel, position, publications }: HistoryResult, until: number | undefined): string {
  const [page = []] = pageByBytes(
    publications.map(({ frame }) => frame),
    REPLY_PAGE_BYTES,
  );
  const left = publications.length - page.length;
  const fields = { channel, position: { offset: position.offset, epoch: position.epoch } };
  if (left === 0) return withFrames(fields, page);
  const next = nextPageUrl(channel, {
    since: publications[page.length - 1]!.offset,
    until: Math.min(until ?? position.offset, position.offset),
    epoch: position.epoch,
    limit: left,
  });
  return withFrames({ ...fields, next }, page);
}

/** `fields` as a JSON object with `"publications": [<frames>]` added: the frames are JSON text already. */
function withFrames(fields: Record<string, unknown>, frames: readonly string[]): string {
  return `${JSON.stringify(fields).slice(0, -1)},"publications":[${frames.join(',')}]}`;
}

function nextPageUrl(
  channel: string,
  { since, until, epoch, limit }: { since: number; until: number; epoch: string; limit: number },
): string {
  const query = new URLSearchParams({ since: `${since}`, until: `${until}`, epoch, limit: `${limit}` });
  return `/channels/${encodeURIComponent(channel)}/history?${query}`;
}
