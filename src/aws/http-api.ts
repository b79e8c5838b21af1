import { randomUUID, timingSafeEqual } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import { Type } from 'typebox';
import type { Relay } from '../core/index.js';
import { codeFor, ErrorBody, httpErrorFor } from './http-errors.js';

export interface HttpApiOptions {
  relay: Relay;
  /** The WebSocket URL the chat page should connect to. */
  websocketUrl: string;
  /** Folder holding the chat page. */
  publicDir?: string;
  /**
   * Fastify's logger (pino: one JSON line per event, with the request id). Default: `warn` and up, so the dev
   * server prints failures only; the Lambda entry point logs every request.
   */
  logger?: false | Exclude<FastifyServerOptions['logger'], boolean | undefined>;
  /** The id to log for the request being made (the Lambda entry point's: the Lambda request id); else Fastify's. */
  requestId?: () => string | undefined;
  /** When set, POST /messages needs `Authorization: Bearer <token>`; open when absent (local). */
  publishToken?: string;
}

const PUBLISH_SCHEMA = {
  body: Type.Object({ data: Type.Unknown() }),
  response: {
    202: Type.Object({ delivered: Type.Integer(), gone: Type.Integer(), failed: Type.Integer() }),
    '4xx': ErrorBody,
    '5xx': ErrorBody,
  },
};

/** The HTTP API: health, server-side publish, and the chat page. Used by Lambda and by `npm run dev`. */
export function buildHttpApi({
  relay,
  websocketUrl,
  publicDir = defaultPublicDir(),
  logger = { level: 'warn' },
  requestId,
  publishToken,
}: HttpApiOptions): FastifyInstance {
  const app = Fastify({
    logger: logger && { formatters: { level: (label: string) => ({ level: label }) }, ...logger },
    ...(requestId && { genReqId: () => requestId() ?? randomUUID() }),
    // Errors raised before routing (a malformed URL such as /%zz) get the API's shape too.
    frameworkErrors: (error, _request, reply) => {
      void (reply as FastifyReply).code(400).send({ error: 'bad_request', message: error.message });
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  const methodsByPath = recordMethodsByPath(app);
  // The id every log line of the request carries, so a caller's report can be matched with the logs.
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  app.get('/health', { schema: { response: { 200: Type.Object({ status: Type.Literal('ok') }) } } }, async () => ({
    status: 'ok' as const,
  }));

  // The page asks where to connect, so one build of it works locally and on AWS.
  app.get(
    '/config.json',
    { schema: { response: { 200: Type.Object({ websocketUrl: Type.String() }) } } },
    async () => ({
      websocketUrl,
    }),
  );

  app.post(
    '/messages',
    {
      schema: PUBLISH_SCHEMA,
      // Before the body is read: neither a stranger nor a form post gets a 1 MB body parsed.
      onRequest: [requireBearer(publishToken), requireJson],
    },
    async (request, reply) => reply.code(202).send(await relay.publish(request.body.data)),
  );

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { statusCode, ...body } = httpErrorFor(error);
    // Fastify logs errors only when its own handler runs; the stack and the cause go with this line.
    if (statusCode >= 500) request.log.error({ err: error }, 'request failed');
    return reply.code(statusCode).send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?', 1)[0]!;
    const allowed = methodsByPath.get(path);
    if (allowed) {
      return reply
        .code(405)
        .header('allow', [...allowed].join(', '))
        .send({
          error: codeFor(405),
          message: `${request.method} ${path} is not supported; use ${[...allowed].join(' or ')}`,
        });
    }
    return reply.code(404).send({ error: codeFor(404), message: `nothing at ${request.method} ${path}` });
  });

  void app.register(fastifyStatic, { root: publicDir });
  return app;
}

type OnRequest = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;

/** Every publish costs one PostToConnection per connection: not for anyone who finds the URL. */
function requireBearer(token: string | undefined): OnRequest {
  return async (request, reply) => {
    if (token === undefined || bearerMatches(request.headers.authorization, token)) return undefined;
    return reply.code(401).header('www-authenticate', 'Bearer').send({
      error: 'unauthorized',
      message: 'POST /messages needs Authorization: Bearer <PUBLISH_TOKEN>',
    });
  };
}

/** Fastify would parse text/plain as a string and call it a schema error; say what is wrong instead. */
const requireJson: OnRequest = async (request, reply) => {
  const type = (request.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (type === 'application/json') return undefined;
  return reply.code(415).send({
    error: 'unsupported_media_type',
    message: `POST /messages takes application/json: {"data": ...}, not ${type || 'a body without a content type'}`,
  });
};

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.match(/^Bearer (.*)$/i)?.[1] ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The methods each fixed path answers, so a wrong method is a 405 naming the right ones, not a 404. */
function recordMethodsByPath(app: FastifyInstance): Map<string, Set<string>> {
  const methods = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    if (/[*:]/.test(route.url)) return;
    const set = methods.get(route.url) ?? new Set<string>();
    for (const method of [route.method].flat()) set.add(method);
    methods.set(route.url, set);
  });
  return methods;
}

/**
 * public/ beside the code, wherever it runs: two levels up from src/aws/ here, and from the
 * bundled src/aws/http-lambda.mjs inside the Lambda zip (which ships public/ too).
 */
function defaultPublicDir(): string {
  return fileURLToPath(new URL('../../public', import.meta.url));
}
