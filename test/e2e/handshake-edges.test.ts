import { connect as tcpConnect } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevServer, startDevServer } from '../../src/local/dev-server.js';
import { connectClient, type TestClient } from '../helpers/ws-client.js';

/** Emulator-only edges of the handshake, on the conformance probe service. */
describe('handshake edges', () => {
  let server: DevServer;
  let watcher: TestClient;
  let watcherId: string;

  beforeAll(async () => {
    server = await startDevServer({
      configPath: resolve(import.meta.dirname, '../conformance/fixtures/probe/serverless.yml'),
      httpPort: 0,
      wsPort: 0,
      http: false,
      log: () => {},
    });
    watcher = await connectClient(`${server.wsUrl}/?token=allow`, { headers: { 'X-Probe': 'yes' } });
    watcher.send({ action: 'echo' });
    watcherId = (await watcher.next()).event.requestContext.connectionId;
  });
  afterAll(async () => {
    await watcher?.close();
    await server?.close();
  });

  /** Sends a raw upgrade request and returns the status line, or '' if the server hung up. */
  function rawHandshake(
    path: string,
    headers: Record<string, string>,
    { hangUpAfterMs }: { hangUpAfterMs?: number } = {},
  ): Promise<string> {
    const { port } = new URL(server.wsUrl);
    return new Promise((resolvePromise) => {
      const socket = tcpConnect(Number(port), '127.0.0.1', () => {
        const lines = [
          `GET ${path} HTTP/1.1`,
          `Host: 127.0.0.1:${port}`,
          ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
        ];
        socket.write(`${lines.join('\r\n')}\r\n\r\n`);
        if (hangUpAfterMs !== undefined) setTimeout(() => socket.end(), hangUpAfterMs);
      });
      let response = '';
      socket.on('data', (chunk) => (response += chunk));
      socket.on('close', () => resolvePromise(response.split('\r\n')[0] ?? ''));
      socket.on('error', () => resolvePromise(''));
    });
  }

  const upgrade = { Upgrade: 'websocket', Connection: 'Upgrade', 'X-Probe': 'yes' };

  it('a handshake without a valid Sec-WebSocket-Key is refused with 400 before $connect runs', async () => {
    const status = await rawHandshake(`/?token=allow&watcher=${watcherId}`, {
      ...upgrade,
      'Sec-WebSocket-Version': '13',
    });
    expect(status).toMatch(/^HTTP\/1.1 400/);
    // $connect never ran, so there is no record and no $disconnect for the watcher to see.
    await expect(watcher.next(500)).rejects.toThrow(/no frame/);
  });

  it('a client that leaves while $connect runs still gets its $disconnect', async () => {
    const headers = { ...upgrade, 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' };
    void rawHandshake(`/?token=allow&watcher=${watcherId}&connectDelayMs=300`, headers, { hangUpAfterMs: 50 });
    const report = await watcher.next(5_000);
    expect(report).toMatchObject({ type: 'disconnect', event: { requestContext: { eventType: 'DISCONNECT' } } });
  });
});
