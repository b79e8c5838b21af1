import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the scripted server received it. */
export interface Captured {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** [status, headers, body], or 'drop' to close the socket without answering. */
export type Answer = (request: Captured) => [number, Record<string, string>, string] | 'drop';

/**
 * An HTTP endpoint that answers from `script` in turn (then with `fallback`) and records each
 * request: for the faults a real AWS endpoint or dynalite cannot be made to produce.
 */
export function scriptedServer(fallback: [number, Record<string, string>, string]) {
  const seen: Captured[] = [];
  const script: Answer[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const captured = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) };
      seen.push(captured);
      const answer = (script.shift() ?? (() => fallback))(captured);
      if (answer === 'drop') return void req.socket.destroy();
      const [status, headers, body] = answer;
      res.writeHead(status, headers).end(body);
    });
  });
  return {
    script,
    seen,
    /** Resolves with `http://127.0.0.1:<port><basePath>`. */
    start: (basePath = '') =>
      new Promise<string>((resolve) =>
        server.listen(0, '127.0.0.1', () =>
          resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}${basePath}`),
        ),
      ),
    /** Forgets what was seen and what was left of the script, between tests. */
    reset() {
      seen.length = 0;
      script.length = 0;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
