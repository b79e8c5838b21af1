import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { WebSocketResult } from '../aws/websocket-event.js';
import { connectionsApi, type LocalConnection } from './connections-api.js';
import {
  connectEvent, disconnectEvent, messageEvent, newConnectionId,
  type ApiIdentity, type ConnectionIdentity,
} from './events.js';
import { forbiddenFrame, internalServerErrorFrame } from './gateway-responses.js';
import type { LocalFunction } from './lambda-runtime.js';
import { CLOSE, type EmulatorLimits } from './limits.js';
import { createRouteSelector } from './route-selection.js';
import type { RouteDefinition } from './serverless-config.js';

export interface WebSocketApiOptions {
  api: Omit<ApiIdentity, 'domainName'>;
  routeSelectionExpression: string;
  routes: RouteDefinition[];
  /** Function name → invocable function. */
  functions: Map<string, LocalFunction>;
  limits: EmulatorLimits;
  log: (message: string) => void;
}

export interface WebSocketApi {
  app: FastifyInstance;
  connections: Map<string, LocalConnection>;
}

interface Route {
  definition: RouteDefinition;
  fn: LocalFunction;
}

/**
 * API Gateway's WebSocket side on Fastify + @fastify/websocket: $connect decides the handshake,
 * frames are routed by the selection expression, each invocation runs independently (as
 * concurrent Lambdas would), and close / quotas fire $disconnect.
 */
export function createWebSocketApi(options: WebSocketApiOptions): WebSocketApi {
  const { limits, log } = options;
  const connections = new Map<string, LocalConnection>();
  const routes = new Map<string, Route>();
  for (const definition of options.routes) {
    const fn = options.functions.get(definition.functionName);
    if (!fn) throw new Error(`route ${definition.routeKey}: function ${definition.functionName} is not loaded`);
    routes.set(definition.routeKey, { definition, fn });
  }
  const selectRoute = createRouteSelector(
    options.routeSelectionExpression,
    [...routes.keys()].filter((key) => key !== '$connect' && key !== '$disconnect'),
  );
  const pending = new WeakMap<FastifyRequest['raw'], ConnectionIdentity & { domainName: string }>();

  const app = Fastify({ logger: false, forceCloseConnections: true });
  void app.register(fastifyWebsocket, { options: { maxPayload: limits.maxMessageBytes } });

  const apiFor = (domainName: string): ApiIdentity => ({ ...options.api, domainName });

  void app.register(async (scope) => {
    // $connect runs before the upgrade: its status decides whether the handshake succeeds.
    scope.addHook('preValidation', async (request, reply) => {
      if (request.headers.upgrade?.toLowerCase() !== 'websocket') {
        return reply.code(426).send({ message: 'Upgrade Required: connect with a WebSocket client' });
      }
      const identity = {
        connectionId: newConnectionId(),
        connectedAt: Date.now(),
        sourceIp: request.ip,
        userAgent: request.headers['user-agent'],
        domainName: request.headers.host ?? `${request.hostname}`,
      };
      const route = routes.get('$connect');
      if (route) {
        const event = connectEvent(apiFor(identity.domainName), identity, {
          rawHeaders: request.raw.rawHeaders,
          query: request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '',
        });
        let status: number;
        try {
          status = statusOf(await route.fn.invoke(event));
        } catch (error) {
          log(`$connect (${route.fn.name}) failed: ${describe(error)}`);
          // A failed Lambda proxy integration answers 502, as on AWS.
          return reply.code(502).send({ message: 'Internal server error' });
        }
        if (status < 200 || status > 299) return reply.code(status).send();
      }
      if (request.raw.socket.destroyed) {
        // The client left while $connect ran: AWS would still send $disconnect.
        void runDisconnect(identity, apiFor(identity.domainName), CLOSE.goingAway, '');
        return reply.code(410).send();
      }
      pending.set(request.raw, identity);
    });

    scope.get('/*', { websocket: true }, (socket, request) => {
      const identity = pending.get(request.raw);
      if (!identity) return socket.close(CLOSE.goingAway);
      pending.delete(request.raw);
      accept(socket, identity);
    });
  });

  void app.register(connectionsApi, { connections, maxMessageBytes: limits.maxMessageBytes });

  function accept(socket: WebSocket, identity: ConnectionIdentity & { domainName: string }): void {
    const api = apiFor(identity.domainName);
    let serverClose: { code: number; reason: string } | undefined;
    const idle = setTimeout(() => connection.end(CLOSE.goingAway, 'Idle timeout'), limits.idleTimeoutSeconds * 1000);
    const lifetime = setTimeout(() => connection.end(CLOSE.goingAway, 'Connection duration exceeded'), limits.maxConnectionSeconds * 1000);
    const connection: LocalConnection = {
      ...identity,
      socket,
      lastActiveAt: Date.now(),
      touch() {
        connection.lastActiveAt = Date.now();
        idle.refresh();
      },
      end(code, reason) {
        serverClose ??= { code, reason };
        connections.delete(identity.connectionId);
        socket.close(code, reason);
      },
    };
    connections.set(identity.connectionId, connection);

    socket.on('message', (data: Buffer, isBinary: boolean) => {
      connection.touch();
      if (isBinary) {
        // API Gateway does not accept binary frames from clients: it closes with 1003.
        return connection.end(CLOSE.unsupportedData, 'Binary frames are not supported');
      }
      void dispatch(connection, api, data);
    });
    socket.on('close', (code: number, reason: Buffer) => {
      clearTimeout(idle);
      clearTimeout(lifetime);
      connections.delete(identity.connectionId);
      const closed = serverClose ?? { code, reason: reason.toString() };
      void runDisconnect(connection, api, closed.code, closed.reason);
    });
    socket.on('error', (error) => log(`connection ${identity.connectionId}: ${error.message}`));
  }

  async function dispatch(connection: LocalConnection, api: ApiIdentity, data: Buffer): Promise<void> {
    const routeKey = selectRoute(data.toString('utf8'));
    const event = messageEvent(api, connection, routeKey ?? '$default', data, false);
    const { requestId } = event.requestContext;
    const route = routeKey === undefined ? undefined : routes.get(routeKey);
    if (!route) return void connection.socket.send(forbiddenFrame(connection.connectionId, requestId));
    try {
      const result = await route.fn.invoke(event);
      // Only a route response sends the handler's body back (two-way communication).
      const body = (result as WebSocketResult | undefined)?.body;
      if (route.definition.routeResponseSelectionExpression === '$default' && typeof body === 'string') {
        connection.socket.send(body);
      }
    } catch (error) {
      log(`${route.definition.routeKey} (${route.fn.name}) failed: ${describe(error)}`);
      connection.socket.send(internalServerErrorFrame(connection.connectionId, requestId));
    }
  }

  async function runDisconnect(connection: ConnectionIdentity, api: ApiIdentity, code: number, reason: string): Promise<void> {
    const route = routes.get('$disconnect');
    if (!route) return;
    try {
      await route.fn.invoke(disconnectEvent(api, connection, code, reason));
    } catch (error) {
      log(`$disconnect (${route.fn.name}) failed: ${describe(error)}`);
    }
  }

  return { app, connections };
}

/** A proxy result without statusCode counts as success, as API Gateway treats it. */
function statusOf(result: unknown): number {
  const status = (result as WebSocketResult | undefined)?.statusCode;
  return typeof status === 'number' ? status : 200;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
