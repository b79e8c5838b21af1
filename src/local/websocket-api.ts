import { createServer } from 'node:http';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { createConnections, type LocalConnection } from './connection.js';
import { createDispatch } from './dispatch.js';
import type { ApiIdentity } from './events.js';
import { handshake } from './handshake.js';
import type { LocalFunction } from './lambda-runtime.js';
import type { EmulatorLimits } from './limits.js';
import { localArn } from './local-account.js';
import { createManagementApi, forbidden } from './management-api.js';
import type { RouteDefinition } from './serverless-config.js';

export interface WebSocketApiOptions {
  api: ApiIdentity;
  region: string;
  routeSelectionExpression: string;
  routes: RouteDefinition[];
  /** Function name → invocable function; filled after the server listens, before `admitConnections`. */
  functions: ReadonlyMap<string, LocalFunction>;
  limits: EmulatorLimits;
  log: (message: string) => void;
}

export interface WebSocketApi {
  app: FastifyInstance;
  connections: ReadonlyMap<string, LocalConnection>;
  /**
   * Every function is loaded: lets in the handshakes queued since the port opened, and later ones.
   * Until then the port accepts TCP connections but holds their handshakes.
   */
  admitConnections(): void;
  /**
   * Closes every connection with 1001 (as a deployment would), waits for the $disconnect
   * invocations that follow, then stops listening.
   */
  close(): Promise<void>;
}

/**
 * API Gateway's WebSocket side on Fastify + @fastify/websocket, from three parts: the handshake
 * (upgrade, authorizer, $connect), the connections (quotas, timers, close) and the dispatch
 * (route selection, invocations, route responses); `@connections` is the Management API.
 */
export function createWebSocketApi(options: WebSocketApiOptions): WebSocketApi {
  const { limits, log } = options;
  const dispatch = createDispatch(options);
  let settleReady!: (loaded: boolean) => void;
  const ready = new Promise<boolean>((resolve) => (settleReady = resolve));
  const connections = createConnections({
    limits,
    log,
    onMessage: (connection, body) => void dispatch.message(connection, body),
    onClose: (connection, code, reason) => void dispatch.disconnect(connection, code, reason),
  });
  const managementApi = createManagementApi({
    connections: connections.byId,
    maxMessageBytes: limits.maxMessageBytes,
    stage: options.api.stage,
  });

  const app = Fastify({
    logger: false,
    forceCloseConnections: true,
    // `@connections` is answered before Fastify sees the request (see management-api.ts).
    serverFactory: (handler) =>
      createServer((request, response) => {
        if (!managementApi(request, response)) handler(request, response);
      }),
  });
  void app.register(fastifyWebsocket, {
    // The guard in connection.ts closes oversized messages first; this is ws's own backstop.
    options: { maxPayload: limits.maxMessageBytes },
    // The plugin's default handler terminates the socket on any error. For the errors ws reports
    // on an open connection (a message too big, a protocol error) ws has already queued its close
    // frame and closes cleanly; terminating now tears the socket down before that frame is out
    // (often, when the client is still sending), and the client sees 1006. connection.ts logs them.
    errorHandler: (_error, socket) => {
      if (socket.readyState === socket.OPEN) socket.terminate();
    },
  });
  void app.register(handshake, {
    methodArn: localArn('execute-api', options.region, `${options.api.apiId}/${options.api.stage}/$connect`),
    api: options.api,
    dispatch,
    ready,
    accept: (socket, identity) => void connections.open(socket, identity),
    log,
  });
  // Any other path or method: API Gateway's ForbiddenException.
  app.setNotFoundHandler((_request, reply) => forbidden(reply.hijack().raw));

  const close = async (): Promise<void> => {
    // Handshakes still waiting for the functions are refused (503); a no-op once admitted.
    settleReady(false);
    await connections.closeAll();
    await dispatch.settled();
    await app.close();
  };

  return { app, connections: connections.byId, admitConnections: () => settleReady(true), close };
}
