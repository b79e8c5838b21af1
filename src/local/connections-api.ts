import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { ConnectionIdentity } from './events.js';
import { CLOSE } from './limits.js';

/** A live connection as the emulator tracks it. */
export interface LocalConnection extends ConnectionIdentity {
  socket: WebSocket;
  domainName: string;
  lastActiveAt: number;
  /** Marks activity: the idle timeout starts again. */
  touch(): void;
  /** Server-side close: forgets the connection at once, closes the socket, fires $disconnect. */
  end(code: number, reason: string): void;
}

export interface ConnectionsApiOptions {
  connections: Map<string, LocalConnection>;
  /** The only stage `/{stage}/@connections` answers for. */
  stage: string;
}

/**
 * GetConnection and DeleteConnection of the Management API (`@connections`), at the root and
 * under the stage, so the real `@aws-sdk/client-apigatewaymanagementapi` client works against the
 * emulator unchanged. PostToConnection, the hot path, is post-to-connection.ts. Requests are not
 * signature-checked.
 */
export async function connectionsApi(
  app: FastifyInstance,
  { connections, stage }: ConnectionsApiOptions,
): Promise<void> {
  // Whatever Fastify itself rejects (a malformed URL) still answers in AWS's error shape, so SDK
  // clients see an AWS error name.
  app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => {
    if (error.statusCode !== undefined && error.statusCode < 500)
      return awsError(reply, 400, 'BadRequestException', error.message);
    return awsError(reply, 500, 'InternalServerErrorException', 'Internal server error');
  });

  type Request = FastifyRequest<{ Params: { connectionId: string; stage?: string } }>;

  // Another stage's path is not this API's: AWS answers ForbiddenException.
  app.addHook('preHandler', async (request: FastifyRequest, reply) => {
    const params = request.params as { stage?: string };
    if (params.stage !== undefined && params.stage !== stage)
      return awsError(reply, 403, 'ForbiddenException', 'Forbidden');
  });

  const get = async (request: Request, reply: FastifyReply) => {
    const connection = connections.get(request.params.connectionId);
    if (!connection) return gone(reply);
    return reply.code(200).send({
      connectedAt: new Date(connection.connectedAt).toISOString(),
      identity: { sourceIp: connection.sourceIp, ...(connection.userAgent && { userAgent: connection.userAgent }) },
      lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
    });
  };

  const remove = async (request: Request, reply: FastifyReply) => {
    const connection = connections.get(request.params.connectionId);
    if (!connection) return gone(reply);
    connection.end(CLOSE.normal, 'Connection Closed Normally');
    return reply.code(204).send();
  };

  for (const prefix of ['', '/:stage']) {
    app.get(`${prefix}/@connections/:connectionId`, get);
    app.delete(`${prefix}/@connections/:connectionId`, remove);
  }
}

function gone(reply: FastifyReply) {
  return awsError(reply, 410, 'GoneException', null);
}

/** The SDK reads the error name from x-amzn-ErrorType, as AWS sends it. */
export function awsError(reply: FastifyReply, status: number, type: string, message: string | null) {
  return reply
    .code(status)
    .header('x-amzn-ErrorType', type)
    .header('content-type', 'application/json')
    .send(JSON.stringify({ message }));
}
