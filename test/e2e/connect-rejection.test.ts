import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevServer } from '../../src/local/dev-server.js';
import { startTestServer } from '../helpers/dev-server.js';
import { connectClient } from '../helpers/ws-client.js';

describe('$connect decides the handshake (fixture service)', () => {
  let server: DevServer;

  beforeAll(async () => {
    server = await startTestServer({
      configPath: resolve(import.meta.dirname, '../fixtures/guarded-service/serverless.yml'),
      http: false,
    });
  });
  afterAll(() => server.close());

  it('a 2xx from $connect completes the handshake', async () => {
    const client = await connectClient(`${server.wsUrl}/?token=letmein`);
    client.send('hi');
    expect(await client.next()).toBe('echo:hi');
    await client.close();
  });

  it.each([
    ['no token', '', 401],
    ['a wrong token', '?token=guess', 403],
    ['a handler that throws', '?token=boom', 502],
  ])('%s (%s) refuses the handshake with HTTP %i', async (_name, query, status) => {
    await expect(connectClient(`${server.wsUrl}/${query}`)).rejects.toMatchObject({ statusCode: status });
  });

  it('a refused connection leaves no trace in the emulator', async () => {
    await connectClient(`${server.wsUrl}/?token=guess`).catch(() => undefined);
    expect(server.webSocketApi.connections.size).toBe(0);
  });
});
