import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevServer } from '../../src/local/dev-server.js';
import { createDevTokenSigner } from '../../src/local/dev-tokens.js';
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

/** The one connection the emulator holds: its authorizer context is what every later event carries. */
function onlyConnection(server: DevServer) {
  const connections = [...server.webSocketApi.connections.values()];
  expect(connections).toHaveLength(1);
  return connections[0]!;
}

describe('the authorizer decides the handshake (this project, as npm run dev runs it)', () => {
  let server: DevServer;
  // Quiet here: each refusal is also logged by the authorizer's sandbox.
  const env = { ...process.env, JWT_SECRET: '', JWT_JWKS_URL: '', POWERTOOLS_LOG_LEVEL: 'SILENT' };

  beforeAll(async () => {
    server = await startTestServer({ http: false, env });
  });
  afterAll(() => server.close());

  it('a dev token connects as its user, with its info and channels in the authorizer context', async () => {
    const token = await server.devTokens!.sign({
      user: 'alice',
      info: { name: 'Alice' },
      channels: { 'chat:*': ['subscribe'] },
    });

    const client = await connectClient(`${server.wsUrl}/?token=${token}`);

    expect(onlyConnection(server).authorizer).toEqual({
      principalId: 'alice',
      userId: 'alice',
      info: '{"name":"Alice"}',
      capabilities: '{"chat:*":["subscribe"]}',
    });
    await client.close();
  });

  it('no token connects anonymously: stage local allows it', async () => {
    const client = await connectClient(server.wsUrl);

    expect(onlyConnection(server).authorizer).toMatchObject({ principalId: 'anonymous' });
    expect(onlyConnection(server).authorizer).not.toHaveProperty('userId');
    await client.close();
  });

  it.each([
    [
      'a token signed with another secret',
      () => createDevTokenSigner('another-secret-of-at-least-32-bytes!').sign({ user: 'alice' }),
    ],
    [
      'an expired token',
      () => server.devTokens!.sign({ user: 'alice', expiresIn: Math.floor(Date.now() / 1000) - 60 }),
    ],
    ['a token with alg none', async () => `${b64({ alg: 'none' })}.${b64({ sub: 'alice', exp: 4102444800 })}.`],
    ['a malformed token', async () => 'not.a.jwt'],
    [
      'a tampered token',
      // A character inside the signature: the last one may only carry padding bits, which decode alike.
      async () => {
        const [header, payload, signature] = (await server.devTokens!.sign({ user: 'alice' })).split('.');
        const flipped = signature![5] === 'A' ? 'B' : 'A';
        return `${header}.${payload}.${signature!.slice(0, 5)}${flipped}${signature!.slice(6)}`;
      },
    ],
  ])('%s: the handshake is refused with 401, and the service stays up', async (_name, makeToken) => {
    const token = await makeToken();

    await expect(connectClient(`${server.wsUrl}/?token=${encodeURIComponent(token)}`)).rejects.toMatchObject({
      statusCode: 401,
    });
    expect(server.webSocketApi.connections.size).toBe(0);
    const client = await connectClient(server.wsUrl);
    await client.close();
  });
});

describe('the authorizer under other settings', () => {
  const quiet = { ...process.env, JWT_SECRET: '', JWT_JWKS_URL: '', POWERTOOLS_LOG_LEVEL: 'SILENT' };

  it('--param="allowAnonymous=false": no token is 401, a token still connects', async () => {
    const server = await startTestServer({ http: false, env: quiet, params: ['allowAnonymous=false'] });
    try {
      await expect(connectClient(server.wsUrl)).rejects.toMatchObject({ statusCode: 401 });
      const client = await connectClient(`${server.wsUrl}/?token=${await server.devTokens!.sign({ user: 'bob' })}`);
      await client.close();
    } finally {
      await server.close();
    }
  });

  it('JWT_SECRET=...: tokens signed with it connect, and dev tokens are signed with it', async () => {
    const secret = 'the-developers-own-secret-of-32-bytes+';
    const server = await startTestServer({ http: false, env: { ...quiet, JWT_SECRET: secret } });
    try {
      const token = await createDevTokenSigner(secret).sign({ user: 'carol' });
      const client = await connectClient(`${server.wsUrl}/?token=${token}`);
      expect(onlyConnection(server).authorizer).toMatchObject({ userId: 'carol' });
      await client.close();
      // POST /dev/token signs with the developer's secret too.
      const devToken = await server.devTokens!.sign({ user: 'dave' });
      const dave = await connectClient(`${server.wsUrl}/?token=${devToken}`);
      expect(onlyConnection(server).authorizer).toMatchObject({ userId: 'dave' });
      await dave.close();
    } finally {
      await server.close();
    }
  });

  it('a JWT_SECRET too short to be safe stops the start with one clear message', async () => {
    await expect(startTestServer({ http: false, env: { ...quiet, JWT_SECRET: 'short' } })).rejects.toThrow(
      /JWT_SECRET must be at least 32 bytes \(it has 5\)/,
    );
  });
});

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
