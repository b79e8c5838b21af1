import { createServer } from 'node:http';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { WebSocketResult } from '../aws/websocket-event.js';
import { describeError } from '../core/index.js';
import { createConnectAdmission } from './connect-admission.js';
import { awsError, connectionsApi, type LocalConnection } from './connections-api.js';
import { MAX_TIMER_MS } from './dev-defaults.js';
import {
  type ApiIdentity,
  type ConnectionIdentity,
  connectEvent,
  disconnectEvent,
  messageEvent,
  newApiGatewayId,
} from './events.js';
import { limitFrameSize } from './frame-size-guard.js';
import { forbiddenFrame, internalServerErrorFrame } from './gateway-responses.js';
import type { LocalFunction } from './lambda-runtime.js';
import { CLOSE, type EmulatorLimits } from './limits.js';
import { localArn } from './local-account.js';
import { createPostToConnection } from './post-to-connection.js';
import { createRouteSelector } from './route-selection.js';
import type { RouteDefinition } from './serverless-config.js';

export interface WebSocketApiOptions {
  api: Omit<ApiIdentity, 'domainName'>;
  region: string;
  routeSelectionExpression: string;
  routes: RouteDefinition[];
  /** Function name → invocable function; may be filled after the server listens. */
  functions: Map<string, LocalFunction>;
  limits: EmulatorLimits;
  log: (message: string) => void;
}

export interface WebSocketApi {
  app: FastifyInstance;
  connections: Map<string, LocalConnection>;
  /**
   * Closes every connection with 1001 (as a deployment would), waits for the $disconnect
   * invocations that follows, then stops listening.
   */
  close(): Promise<void>;
}

/** How long shutdown waits for clients to answer the close frame before dropping them. */
const CLOSE_GRACE_MS = 1_000;

type Identity = ConnectionIdentity & { domainName: string };

/**
 * API Gateway's WebSocket side on Fastify + @fastify/websocket: the authorizer and $connect
 * decide the handshake, frames are routed by the selection expression, each invocation runs
 * independently (as concurrent Lambdas would), and close / quotas fire $disconnect.
 */
export function createWebSocketApi(options: WebSocketApiOptions): WebSocketApi {
  const { limits, log } = options;
  const connections = new Map<string, LocalConnection>();
  const routes = new Map(options.routes.map((route) => [route.routeKey, route]));
  const selectRoute = createRouteSelector(
    options.routeSelectionExpression,
    [...routes.keys()].filter((key) => key !== '$connect' && key !== '$disconnect'),
  );
  const pending = new WeakMap<FastifyRequest['raw'], { identity: Identity; onAccept(): void }>();
  const apiFor = (domainName: string): ApiIdentity => ({ ...options.api, domainName });
  const methodArn = localArn('execute-api', options.region, `${options.api.apiId}/${options.api.stage}/$connect`);

  // Invocations in flight, so shutdown can wait for the $disconnects it causes.
  const inFlight = new Set<Promise<unknown>>();
  const invoke = (functionName: string, event: unknown): Promise<unknown> => {
    const fn = options.functions.get(functionName);
    if (!fn) return Promise.reject(new Error(`function ${functionName} is not loaded`));
    const invocation = fn.invoke(event);
    const tracked = invocation.catch(() => undefined).finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    return invocation;
  };

  const postToConnection = createPostToConnection({
    connections,
    maxMessageBytes: limits.maxMessageBytes,
    stage: options.api.stage,
  });
  const app = Fastify({
    logger: false,
    forceCloseConnections: true,
    // PostToConnection is answered before Fastify sees the request (see post-to-connection.ts).
    serverFactory: (handler) =>
      createServer((request, response) => {
        if (!postToConnection(request, response)) handler(request, response);
      }),
  });
  void app.register(fastifyWebsocket, { options: { maxPayload: limits.maxMessageBytes } });

  const admit = createConnectAdmission({ connect: routes.get('$connect'), methodArn, invoke, log });

  void app.register(async (scope) => {
    scope.addHook('preValidation', async (request, reply) => {
      if (request.headers.upgrade?.toLowerCase() !== 'websocket') {
        return reply.code(426).send({ message: 'Upgrade Required: connect with a WebSocket client' });
      }
      // A handshake the WebSocket layer would refuse never reaches $connect, as on AWS.
      const key = request.headers['sec-websocket-key'];
      if (
        request.headers['sec-websocket-version'] !== '13' ||
        typeof key !== 'string' ||
        !/^[A-Za-z0-9+/]{22}==$/.test(key)
      ) {
        return reply.code(400).send({ message: 'Bad Request: invalid WebSocket handshake' });
      }
      const identity: Identity = {
        connectionId: newApiGatewayId(),
        connectedAt: Date.now(),
        sourceIp: request.ip,
        userAgent: request.headers['user-agent'],
        domainName: request.headers.host ?? request.hostname,
      };
      const event = connectEvent(apiFor(identity.domainName), identity, {
        rawHeaders: request.raw.rawHeaders,
        query: request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '',
      });
      // A client that leaves while $connect runs (or before the upgrade completes) still gets
      // its $disconnect, as on AWS; once the WebSocket takes over, its own close handler does.
      const socket = request.raw.socket;
      const leftEarly = () => void runDisconnect(identity, CLOSE.goingAway, '');
      const refusal = await admit(event, identity);
      if (refusal !== undefined) return reply.code(refusal).send({ message: refusalMessage(refusal) });
      if (socket.destroyed || socket.readableEnded) {
        leftEarly();
        return reply.code(410).send();
      }
      socket.once('close', leftEarly);
      pending.set(request.raw, { identity, onAccept: () => socket.off('close', leftEarly) });
    });

    scope.get('/*', { websocket: true }, (socket, request) => {
      const admitted = pending.get(request.raw);
      if (!admitted) return socket.close(CLOSE.goingAway);
      pending.delete(request.raw);
      admitted.onAccept();
      accept(socket, admitted.identity);
    });
  });

  void app.register(connectionsApi, { connections, stage: options.api.stage });
  // Any other path or method: API Gateway's ForbiddenException.
  app.setNotFoundHandler((_request: FastifyRequest, reply: FastifyReply) =>
    awsError(reply, 403, 'ForbiddenException', 'Forbidden'),
  );

  let frameLimitWarned = false;

  function accept(socket: WebSocket, identity: Identity): void {
    if (!limitFrameSize(socket, limits.maxFrameBytes) && !frameLimitWarned) {
      frameLimitWarned = true;
      log('warning: this version of ws cannot be hooked; the 32 KB frame size limit is not enforced');
    }
    let serverClose: { code: number; reason: string } | undefined;
    const idle = setTimeout(
      () => connection.end(CLOSE.goingAway, 'Going away'),
      Math.min(MAX_TIMER_MS, limits.idleTimeoutSeconds * 1000),
    );
    const lifetime = setTimeout(
      () => connection.end(CLOSE.goingAway, 'Going away'),
      Math.min(MAX_TIMER_MS, limits.maxConnectionSeconds * 1000),
    );
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
      // Frames that arrive after the gateway closed the connection go nowhere.
      if (!connections.has(identity.connectionId)) return;
      connection.touch();
      if (isBinary) {
        // API Gateway does not accept binary frames from clients: it closes with 1003.
        return connection.end(CLOSE.unsupportedData, 'Binary frames are not supported');
      }
      void dispatch(connection, data.toString('utf8'));
    });
    socket.on('close', (code: number, reason: Buffer) => {
      clearTimeout(idle);
      clearTimeout(lifetime);
      connections.delete(identity.connectionId);
      const closed = serverClose ?? { code, reason: reason.toString() };
      void runDisconnect(connection, closed.code, closed.reason);
    });
    socket.on('error', (error) => {
      // ws closes with the status its error carries (1009 for a message too big); that is the
      // code the client sees and $disconnect must report, not the 1006 of the teardown after.
      serverClose ??= { code: statusCodeOf(error) ?? 1006, reason: '' };
      connections.delete(identity.connectionId);
      log(`connection ${identity.connectionId}: ${error.message}`);
    });
  }

  async function dispatch(connection: LocalConnection, body: string): Promise<void> {
    const routeKey = selectRoute(body);
    const event = messageEvent(apiFor(connection.domainName), connection, routeKey ?? '$default', body);
    const { requestId } = event.requestContext;
    const route = routeKey === undefined ? undefined : routes.get(routeKey);
    if (!route) return void connection.socket.send(forbiddenFrame(connection.connectionId, requestId));
    try {
      const result = await invoke(route.functionName, event);
      // Only a route response sends the handler's body back (two-way communication).
      const responseBody = (result as WebSocketResult | undefined)?.body;
      if (route.routeResponseSelectionExpression === '$default' && typeof responseBody === 'string') {
        connection.socket.send(responseBody);
      }
    } catch (error) {
      log(`${route.routeKey} (${route.functionName}) failed: ${describeError(error)}`);
      connection.socket.send(internalServerErrorFrame(connection.connectionId, requestId));
    }
  }

  async function runDisconnect(connection: Identity, code: number, reason: string): Promise<void> {
    const route = routes.get('$disconnect');
    if (!route) return;
    try {
      await invoke(route.functionName, disconnectEvent(apiFor(connection.domainName), connection, code, reason));
    } catch (error) {
      log(`$disconnect (${route.functionName}) failed: ${describeError(error)}`);
    }
  }

  const close = async (): Promise<void> => {
    const sockets = [...connections.values()].map((connection) => connection.socket);
    for (const connection of [...connections.values()]) connection.end(CLOSE.goingAway, 'Going away');
    const allClosed = Promise.all(
      sockets.map(
        (socket) =>
          new Promise((resolve) => {
            if (socket.readyState === socket.CLOSED) resolve(undefined);
            else socket.once('close', resolve);
          }),
      ),
    );
    const grace = setTimeout(() => {
      for (const socket of sockets) socket.terminate();
    }, CLOSE_GRACE_MS);
    await allClosed;
    clearTimeout(grace);
    await Promise.all(inFlight);
    await app.close();
  };

  return { app, connections, close };
}

/** The close code a `ws` error carries (ws keeps it under a symbol). */
function statusCodeOf(error: Error): number | undefined {
  const symbol = Object.getOwnPropertySymbols(error).find((candidate) => candidate.description === 'status-code');
  const code = symbol ? (error as unknown as Record<symbol, unknown>)[symbol] : undefined;
  return typeof code === 'number' ? code : undefined;
}

function refusalMessage(status: number): string {
  if (status === 401) return 'Unauthorized';
  if (status === 403) return 'Forbidden';
  if (status >= 500) return 'Internal server error';
  return 'Connection refused';
}
