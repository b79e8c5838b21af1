import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LocalConnection } from './connections-api.js';

/** Bodies past this are not read; beyond the 128 KB quota the exact ceiling matters little. */
const BODY_CEILING_BYTES = 16 * 1024 * 1024;
const PATH = /^(?:\/([^/?]+))?\/@connections\/([^/?]+)$/;

export interface PostToConnectionOptions {
  connections: Map<string, LocalConnection>;
  maxMessageBytes: number;
  /** The only stage `/{stage}/@connections` answers for. */
  stage: string;
}

/**
 * PostToConnection on node's own request handler, ahead of Fastify: a broadcast makes one of
 * these per recipient, and the framework's routing, hooks and reply machinery cost more than the
 * delivery itself. Returns false for any other request, which then goes to Fastify.
 * Answers as AWS does: 200, 410 GoneException, 413 PayloadTooLargeException, 403 for another stage.
 */
export function createPostToConnection({ connections, maxMessageBytes, stage }: PostToConnectionOptions) {
  return (request: IncomingMessage, response: ServerResponse): boolean => {
    if (request.method !== 'POST') return false;
    const match = PATH.exec(request.url ?? '');
    if (!match) return false;
    const [, pathStage, encodedId] = match;

    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= BODY_CEILING_BYTES) chunks.push(chunk);
    });
    request.on('end', () => {
      if (pathStage !== undefined && pathStage !== stage)
        return writeAwsError(response, 403, 'ForbiddenException', 'Forbidden');
      let connectionId: string;
      try {
        connectionId = decodeURIComponent(encodedId!);
      } catch {
        return writeAwsError(response, 400, 'BadRequestException', 'Invalid connection id encoding');
      }
      const connection = connections.get(connectionId);
      // A socket already closing is gone for the gateway too; its frame would be dropped.
      if (!connection || connection.socket.readyState !== connection.socket.OPEN)
        return writeAwsError(response, 410, 'GoneException', null);
      if (size > maxMessageBytes) {
        return writeAwsError(
          response,
          413,
          'PayloadTooLargeException',
          `Message payload exceeds the ${maxMessageBytes} byte limit`,
        );
      }
      connection.socket.send(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), { binary: false });
      connection.touch();
      response.writeHead(200, { 'content-length': '0' }).end();
    });
    return true;
  };
}

/** AWS's error shape: the SDK reads the name from x-amzn-ErrorType. */
function writeAwsError(response: ServerResponse, status: number, type: string, message: string | null): void {
  const body = JSON.stringify({ message });
  response
    .writeHead(status, {
      'x-amzn-ErrorType': type,
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
    })
    .end(body);
}
