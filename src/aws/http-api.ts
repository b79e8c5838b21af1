import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyServerOptions,
} from 'fastify';
import { type Static, Type } from 'typebox';
import {
  DEFAULT_CHANNEL,
  InvalidMessageError,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  parseCapabilities,
  parseInfo,
  personalChannel,
  type Relay,
} from '../core/index.js';
import { addChannelReadRoutes } from './http-channel-reads.js';
import { codeFor, ErrorBody, httpErrorFor, USAGE } from './http-errors.js';
import { ignoreEmptyBody, recordMethodsByPath, requireBearer, requireChannelName, requireJson } from './http-guards.js';

/**
 * What the HTTP API asks of the relay: the server-side publish (with its idempotency key), the history
 * and presence reads, closing a connection.
 */
export type ServerRelay = Pick<Relay, 'publish' | 'history' | 'presence' | 'closeConnection'>;

/** A `POST /dev/token` body once checked: a user that can have a personal channel, valid capabilities. */
export interface DevTokenRequest {
  user: string;
  info?: Record<string, unknown>;
  channels?: Record<string, unknown>;
}

export interface ConnectionLimits {
  idleTimeoutSeconds: number;
  maxConnectionSeconds: number;
}

export interface HttpApiOptions {
  relay: ServerRelay;
  /** The WebSocket URL the chat page should connect to. */
  websocketUrl: string;
  /**
   * The emulator's connection limits (`--idle-timeout`, `--max-connection-duration`), told to the page in
   * config.json so its heartbeat and handover follow them. Absent on AWS: the library's defaults are API Gateway's.
   */
  connectionLimits?: ConnectionLimits;
  /** Folder holding the chat page. */
  publicDir?: string;
  /**
   * Fastify's logger (pino: one JSON line per event, with the request id). Default: `warn` and up, so the dev
   * server prints failures only; the Lambda entry point logs every request.
   */
  logger?: false | Exclude<FastifyServerOptions['logger'], boolean | undefined>;
  /** The id to log for the request being made (the Lambda entry point's: the Lambda request id); else Fastify's. */
  requestId?: () => string | undefined;
  /**
   * When set, the server API (publish, history, presence, close) needs `Authorization: Bearer <token>`; open
   * when absent (local).
   */
  publishToken?: string;
  /**
   * Signs a dev token; when given, `POST /dev/token` exists (npm run dev only: the Lambda entry point never
   * passes it, so there is no such route on AWS).
   */
  devTokens?: (request: DevTokenRequest) => Promise<string>;
}

const PUBLISH_BODY = Type.Object({
  data: Type.Unknown(),
  // The protocol's own limit: one key is accepted by both transports or by neither.
  idempotencyKey: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_IDEMPOTENCY_KEY_LENGTH })),
});
const PUBLISH_RESPONSES = {
  202: Type.Object({
    messageId: Type.String(),
    offset: Type.Integer(),
    delivered: Type.Integer(),
    gone: Type.Integer(),
    failed: Type.Integer(),
    duplicate: Type.Optional(Type.Boolean()),
  }),
  '4xx': ErrorBody,
  '5xx': ErrorBody,
};
/** Path parameters are bounded well above any valid value, so a long one is refused by name, not as a 404. */
const MAX_PARAM_LENGTH = 1024;

const DEV_TOKEN_BODY = Type.Object({
  // 123: `user:` + the id must fit a channel name (128).
  user: Type.String({ minLength: 1, maxLength: 123 }),
  info: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  channels: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

const CONFIG_RESPONSE = Type.Object({
  websocketUrl: Type.String(),
  idleTimeoutSeconds: Type.Optional(Type.Number()),
  maxConnectionSeconds: Type.Optional(Type.Number()),
});

/**
 * The HTTP API: health, the server API (publish, history, presence, close), the chat page. Used by Lambda
 * and by `npm run dev`.
 */
export function buildHttpApi({
  relay,
  websocketUrl,
  connectionLimits,
  publicDir = defaultPublicDir(),
  logger = { level: 'warn' },
  requestId,
  publishToken,
  devTokens,
}: HttpApiOptions): FastifyInstance {
  const app = Fastify({
    logger: logger && { formatters: { level: (label: string) => ({ level: label }) }, ...logger },
    ...(requestId && { genReqId: () => requestId() ?? randomUUID() }),
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // A JSON body says what it means: {"user": 42} is a number, not the user "42".
    ajv: { customOptions: { coerceTypes: false } },
    // Errors raised before routing (a malformed URL such as /%zz) get the API's shape too.
    frameworkErrors: (error, _request, reply) => {
      void (reply as FastifyReply).code(400).send({ error: 'bad_request', message: error.message });
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  const allowedMethods = recordMethodsByPath(app);
  // The id every log line of the request carries, so a caller's report can be matched with the logs.
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  const bearer = requireBearer(publishToken);
  const publish = (channel: string, { data, idempotencyKey }: Static<typeof PUBLISH_BODY>) =>
    relay.publish(channel, data, idempotencyKey === undefined ? {} : { idempotencyKey });

  app.get('/health', { schema: { response: { 200: Type.Object({ status: Type.Literal('ok') }) } } }, async () => ({
    status: 'ok' as const,
  }));

  // The page asks where to connect, so one build of it works locally and on AWS.
  app.get('/config.json', { schema: { response: { 200: CONFIG_RESPONSE } } }, async () => ({
    websocketUrl,
    ...connectionLimits,
  }));

  // Bearer first, then the target, then the content type: a stranger or a wrong URL gets no body parsed.
  app.post(
    '/messages',
    { schema: { body: PUBLISH_BODY, response: PUBLISH_RESPONSES }, onRequest: [bearer, requireJson(USAGE.publish)] },
    async (request, reply) => reply.code(202).send(await publish(DEFAULT_CHANNEL, request.body)),
  );

  app.post(
    '/channels/:channel/messages',
    {
      schema: { params: Type.Object({ channel: Type.String() }), body: PUBLISH_BODY, response: PUBLISH_RESPONSES },
      onRequest: [bearer, requireChannelName, requireJson(USAGE.publish)],
    },
    async (request, reply) => reply.code(202).send(await publish(request.params.channel, request.body)),
  );

  app.post(
    '/users/:userId/messages',
    {
      schema: { params: Type.Object({ userId: Type.String() }), body: PUBLISH_BODY, response: PUBLISH_RESPONSES },
      onRequest: [
        bearer,
        async (request) => void userChannel(request.params as { userId: string }),
        requireJson(USAGE.publish),
      ],
    },
    async (request, reply) => reply.code(202).send(await publish(userChannel(request.params), request.body)),
  );

  addChannelReadRoutes(app, relay, bearer);

  app.delete(
    '/connections/:connectionId',
    {
      schema: { params: Type.Object({ connectionId: Type.String({ minLength: 1, maxLength: 128 }) }) },
      onRequest: [bearer, ignoreEmptyBody],
    },
    async (request, reply) => {
      await relay.closeConnection(request.params.connectionId);
      return reply.code(204).send();
    },
  );

  if (devTokens) {
    app.post(
      '/dev/token',
      {
        schema: { body: DEV_TOKEN_BODY, response: { 200: Type.Object({ token: Type.String() }), '4xx': ErrorBody } },
        onRequest: [requireJson(USAGE.devToken)],
      },
      async (request) => ({ token: await devTokens(checkDevTokenRequest(request.body)) }),
    );
  }

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const usage = request.routeOptions.url?.startsWith('/dev/') ? USAGE.devToken : USAGE.publish;
    const { statusCode, ...body } = httpErrorFor(error, usage);
    // Fastify logs errors only when its own handler runs; the stack and the cause go with this line.
    if (statusCode >= 500) request.log.error({ err: error }, 'request failed');
    return reply.code(statusCode).send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?', 1)[0]!;
    const allowed = allowedMethods(path);
    if (allowed) {
      return reply
        .code(405)
        .header('allow', allowed.join(', '))
        .send({
          error: codeFor(405),
          message: `${request.method} ${path} is not supported; use ${allowed.join(' or ')}`,
        });
    }
    return reply.code(404).send({ error: codeFor(404), message: `nothing at ${request.method} ${path}` });
  });

  void app.register(fastifyStatic, { root: publicDir });
  return app;
}

/** The personal channel of `userId`; `invalid_channel` when the id cannot form one. */
function userChannel({ userId }: { userId: string }): string {
  const channel = personalChannel(userId);
  if (channel !== undefined) return channel;
  throw new InvalidMessageError(
    'invalid_channel',
    `user id "${userId.slice(0, 64)}" cannot form a personal channel: use up to 123 characters from A-Z a-z 0-9 _ - . : @ =`,
  );
}

/** What the schema cannot say: the user must have a personal channel, info is small, channels are capabilities. */
function checkDevTokenRequest(body: Static<typeof DEV_TOKEN_BODY>): DevTokenRequest {
  const { user, info, channels } = body;
  if (personalChannel(user) === undefined) {
    throw new InvalidMessageError(
      'invalid_request',
      `"user" must be 1-123 characters from A-Z a-z 0-9 _ - . : @ = (it names the personal channel user:<user>)`,
    );
  }
  try {
    parseInfo(info);
  } catch (error) {
    throw new InvalidMessageError('invalid_request', `"info" ${(error as Error).message}`);
  }
  if (channels !== undefined) {
    try {
      parseCapabilities(channels);
    } catch (error) {
      throw new InvalidMessageError('invalid_request', `"channels" ${(error as Error).message}`);
    }
  }
  return { user, ...(info && { info }), ...(channels && { channels }) };
}

/**
 * public/ beside the code, wherever it runs: two levels up from src/aws/ here, and from the
 * bundled src/aws/http-lambda.mjs inside the Lambda zip (which ships public/ too).
 */
function defaultPublicDir(): string {
  return fileURLToPath(new URL('../../public', import.meta.url));
}
