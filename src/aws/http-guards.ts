import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { assertChannelName } from '../core/index.js';

/** An onRequest hook: answers the request itself (refusing it), or lets it through with undefined. */
export type OnRequest = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;

/** Every publish costs one PostToConnection per subscriber: not for anyone who finds the URL. */
export function requireBearer(token: string | undefined): OnRequest {
  return async (request, reply) => {
    if (token === undefined || bearerMatches(request.headers.authorization, token)) return undefined;
    return reply
      .code(401)
      .header('www-authenticate', 'Bearer')
      .send({
        error: 'unauthorized',
        message: `${request.method} ${request.routeOptions.url} needs Authorization: Bearer <PUBLISH_TOKEN>`,
      });
  };
}

/** A `:channel` path parameter must name a channel (400 invalid_channel), whatever else the request holds. */
export const requireChannelName: OnRequest = async (request) => {
  assertChannelName((request.params as { channel: string }).channel);
  return undefined;
};

/** Fastify would parse text/plain as a string and call it a schema error; say what is wrong instead. */
export function requireJson(usage: string): OnRequest {
  return async (request, reply) => {
    const type = (request.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
    if (type === 'application/json') return undefined;
    return reply.code(415).send({
      error: 'unsupported_media_type',
      message: `${usage}, not ${type || 'a body without a content type'}`,
    });
  };
}

/**
 * A DELETE carries no body, but some clients still send `content-type: application/json`, which
 * Fastify would answer as an empty JSON body (400). Without a body there is nothing to parse.
 */
export const ignoreEmptyBody: OnRequest = async (request) => {
  const { headers } = request;
  if (headers['transfer-encoding'] === undefined && (headers['content-length'] ?? '0') === '0') {
    delete headers['content-type'];
  }
  return undefined;
};

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.match(/^Bearer (.*)$/i)?.[1] ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The methods each route's path answers, parametric ones included (`/channels/:channel/messages`),
 * so a wrong method is a 405 naming the right ones, not a 404. Returns the lookup for a request path.
 */
export function recordMethodsByPath(app: FastifyInstance): (path: string) => string[] | undefined {
  const routes = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  app.addHook('onRoute', (route) => {
    // The static files' wildcard answers GET anywhere; it says nothing about a path's methods.
    if (route.url.includes('*')) return;
    const entry = routes.get(route.url) ?? { pattern: patternOf(route.url), methods: new Set<string>() };
    for (const method of [route.method].flat()) entry.methods.add(method);
    routes.set(route.url, entry);
  });
  return (path) => {
    const methods = [...routes.values()].filter(({ pattern }) => pattern.test(path)).flatMap((r) => [...r.methods]);
    return methods.length > 0 ? [...new Set(methods)] : undefined;
  };
}

/** `/channels/:channel/messages` → a regex matching one segment where each parameter is. */
function patternOf(url: string): RegExp {
  const escaped = url.split(/:[A-Za-z0-9_]+/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('[^/]+')}$`);
}
