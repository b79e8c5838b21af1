import { timingSafeEqual } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance } from 'fastify';
import { InvalidMessageError, type Logger, type Relay } from '../core/index.js';
import { jsonLogger } from './logger.js';

export interface HttpApiOptions {
  relay: Relay;
  /** The WebSocket URL the chat page should connect to. */
  websocketUrl: string;
  /** Folder holding the chat page. */
  publicDir?: string;
  logger?: Logger;
  /** When set, POST /messages needs `Authorization: Bearer <token>`; open when absent (local). */
  publishToken?: string;
}

const PUBLISH_SCHEMA = {
  body: {
    type: 'object',
    required: ['data'],
    properties: { data: {} },
  },
} as const;

/** The HTTP API: health, server-side publish, and the chat page. Used by Lambda and by `npm run dev`. */
export function buildHttpApi({
  relay,
  websocketUrl,
  publicDir = defaultPublicDir(),
  logger = jsonLogger,
  publishToken,
}: HttpApiOptions): FastifyInstance {
  const app = Fastify({ logger: false });

  app.get('/health', async () => ({ status: 'ok' }));

  // The page asks where to connect, so one build of it works locally and on AWS.
  app.get('/config.json', async () => ({ websocketUrl }));

  app.post(
    '/messages',
    {
      schema: PUBLISH_SCHEMA,
      // Fastify would parse text/plain as a string and report a schema error; say what is wrong.
      preValidation: async (request, reply) => {
        // Every publish costs one PostToConnection per connection: not for anyone who finds the URL.
        if (publishToken !== undefined && !bearerMatches(request.headers.authorization, publishToken)) {
          return reply
            .code(401)
            .header('www-authenticate', 'Bearer')
            .send({ error: 'unauthorized', message: 'POST /messages needs Authorization: Bearer <PUBLISH_TOKEN>' });
        }
        if (!request.headers['content-type']?.toLowerCase().startsWith('application/json')) {
          return reply
            .code(415)
            .send({ error: 'unsupported_media_type', message: 'POST /messages takes application/json: {"data": ...}' });
        }
      },
    },
    async (request, reply) => {
      const { data } = request.body as { data: unknown };
      try {
        return reply.code(202).send(await relay.publish(data));
      } catch (error) {
        if (error instanceof InvalidMessageError && error.code === 'message_too_large') {
          return reply.code(413).send({ error: error.code, message: error.message });
        }
        throw error;
      }
    },
  );

  app.setErrorHandler((error: { statusCode?: number; message: string; validation?: unknown }, _request, reply) => {
    const statusCode = error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
    const message = statusCode === 500 ? 'internal error' : error.message;
    if (statusCode === 500) logger.error('request failed', { error: error.message });
    void reply.code(statusCode).send({ error: statusCode === 500 ? 'internal_error' : 'bad_request', message });
  });

  void app.register(fastifyStatic, { root: publicDir });
  return app;
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * public/ beside the code, wherever it runs: two levels up from src/aws/ here, and from the
 * bundled src/aws/http-lambda.mjs inside the Lambda zip (which ships public/ too).
 */
function defaultPublicDir(): string {
  return fileURLToPath(new URL('../../public', import.meta.url));
}
