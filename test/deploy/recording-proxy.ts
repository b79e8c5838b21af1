import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An AWS call as IAM sees it: the action and which resource kind it touched. The Management API's
 * resource names the HTTP method (`.../POST/@connections/*` delivers, `.../DELETE/...` closes), so
 * a role can allow one without the other.
 */
export interface AwsCall {
  action: string;
  resource: 'table' | 'index' | `${string} @connections`;
}

/**
 * A pass-through HTTP proxy in front of dynalite or the @connections API that records every
 * call as an IAM action, so the test can compare what a bundle really does with its role.
 */
export async function startRecordingProxy(
  target: string,
): Promise<{ url: string; calls: AwsCall[]; close(): Promise<void> }> {
  const calls: AwsCall[] = [];
  const upstream = new URL(target);
  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      calls.push(describeCall(incoming.method ?? 'GET', incoming.url ?? '/', incoming.headers['x-amz-target'], body));
      const forwarded = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: incoming.method,
          path: incoming.url,
          headers: { ...incoming.headers, host: upstream.host },
        },
        (response) => {
          outgoing.writeHead(response.statusCode ?? 502, response.headers);
          response.pipe(outgoing);
        },
      );
      forwarded.on('error', () => outgoing.destroy());
      forwarded.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function describeCall(method: string, path: string, target: string | string[] | undefined, body: Buffer): AwsCall {
  if (typeof target === 'string') {
    const operation = target.split('.').pop()!;
    const indexName =
      operation === 'Query' ? (JSON.parse(body.toString() || '{}') as { IndexName?: string }).IndexName : undefined;
    return { action: `dynamodb:${operation}`, resource: indexName ? 'index' : 'table' };
  }
  if (path.includes('/@connections/')) {
    return { action: 'execute-api:ManageConnections', resource: `${method} @connections` };
  }
  return { action: `unknown:${method} ${path}`, resource: 'table' };
}
