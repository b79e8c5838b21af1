import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LocalConnection } from './connection.js';
import { CLOSE } from './limits.js';

export interface ManagementApiOptions {
  connections: ReadonlyMap<string, LocalConnection>;
  maxMessageBytes: number;
  /** The only stage `/{stage}/@connections` answers for. */
  stage: string;
}

/** Answers a request if it is one for `@connections`; false sends it on (to Fastify). */
export type ManagementApi = (request: IncomingMessage, response: ServerResponse) => boolean;

/** Bodies past this are not kept; beyond the 128 KB quota the exact ceiling matters little. */
const BODY_CEILING_BYTES = 16 * 1024 * 1024;
/** `/@connections/{id}` at the root (a custom domain's base path) or under a stage. */
const PATH = /^(?:\/([^/]+))?\/@connections\/([^/]+)$/;

/**
 * The Management API (`@connections`: PostToConnection, GetConnection, DeleteConnection) on node's
 * own request handler, ahead of Fastify: a broadcast makes one PostToConnection per recipient,
 * and the framework's routing, hooks and reply machinery would cost more than the delivery.
 * Answers as AWS does, so the real `@aws-sdk/client-apigatewaymanagementapi` client works
 * unchanged: 200 / 204, 410 GoneException, 413 PayloadTooLargeException, 403 ForbiddenException
 * for another stage or method. The query string is ignored, as AWS's REST APIs ignore query
 * parameters an operation does not define. Requests are not signature-checked.
 */
export function createManagementApi({ connections, maxMessageBytes, stage }: ManagementApiOptions): ManagementApi {
  return (request, response) => {
    const url = request.url ?? '';
    const query = url.indexOf('?');
    const match = PATH.exec(query === -1 ? url : url.slice(0, query));
    if (!match) return false;
    const [, pathStage, encodedId] = match;

    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= BODY_CEILING_BYTES) chunks.push(chunk);
    });
    request.on('end', () => {
      if (pathStage !== undefined && pathStage !== stage) return forbidden(response);
      let connectionId: string;
      try {
        connectionId = decodeURIComponent(encodedId!);
      } catch {
        return writeAwsError(response, 400, 'BadRequestException', 'Invalid connection id encoding');
      }
      const connection = connections.get(connectionId);
      switch (request.method) {
        case 'POST':
          return post(response, connection, chunks, size, maxMessageBytes);
        case 'GET':
          return connection ? get(response, connection) : gone(response);
        case 'DELETE':
          if (!connection) return gone(response);
          connection.end(CLOSE.normal, 'Connection Closed Normally');
          return void response.writeHead(204).end();
        default:
          // API Gateway answers a method a resource lacks as it answers a path it lacks.
          return forbidden(response);
      }
    });
    return true;
  };
}

/** PostToConnection: the data as one text frame. */
function post(
  response: ServerResponse,
  connection: LocalConnection | undefined,
  body: Buffer[],
  bytes: number,
  maxMessageBytes: number,
) {
  // A socket already closing is gone for the gateway too; its frame would be dropped.
  if (!connection || connection.socket.readyState !== connection.socket.OPEN) return gone(response);
  if (bytes > maxMessageBytes) {
    const message = `Message payload exceeds the ${maxMessageBytes} byte limit`;
    return writeAwsError(response, 413, 'PayloadTooLargeException', message);
  }
  connection.socket.send(body.length === 1 ? body[0]! : Buffer.concat(body), { binary: false });
  connection.touch();
  response.writeHead(200, { 'content-length': '0' }).end();
}

/** GetConnection: when it connected, who it is, when it was last active. */
function get(response: ServerResponse, connection: LocalConnection): void {
  const { userAgent } = connection;
  writeJson(response, 200, {
    connectedAt: new Date(connection.connectedAt).toISOString(),
    identity: { sourceIp: connection.sourceIp, ...(userAgent && { userAgent }) },
    lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
  });
}

/** Any other path or method of the API: API Gateway's ForbiddenException. */
export function forbidden(response: ServerResponse): void {
  writeAwsError(response, 403, 'ForbiddenException', 'Forbidden');
}

function gone(response: ServerResponse): void {
  writeAwsError(response, 410, 'GoneException', null);
}

/** AWS's error shape: the SDK reads the error name from x-amzn-ErrorType. */
function writeAwsError(response: ServerResponse, status: number, type: string, message: string | null): void {
  writeJson(response, status, { message }, { 'x-amzn-ErrorType': type });
}

function writeJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const json = JSON.stringify(body);
  response
    .writeHead(status, {
      ...headers,
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(json)),
    })
    .end(json);
}
