import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ConnectAuthorizerEvent, handler as Handler } from '../../src/aws/handlers/authorize.js';
import { identityFromContext } from '../../src/core/identity.js';
import { authorizerEvent, decide } from '../../src/local/authorizer.js';
import { websocketEvent } from '../fixtures/websocket-event.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const ARN = 'arn:aws:execute-api:eu-west-1:000000000000:abc123def4/prod/$connect';
const key = new TextEncoder().encode(SECRET);

/** The event API Gateway hands the authorizer for a $connect with this query and these headers. */
function connectAuthorizerEvent(query: Record<string, string> = {}, headers: Record<string, string> = {}) {
  const base = websocketEvent();
  const connect = websocketEvent({
    requestContext: { ...base.requestContext, routeKey: '$connect', eventType: 'CONNECT' },
    body: undefined,
    headers: { Host: 'abc123def4.execute-api.eu-west-1.amazonaws.com', ...headers },
    queryStringParameters: query,
  });
  return authorizerEvent(connect, ARN) as unknown as ConnectAuthorizerEvent;
}

/** The handler module as a cold start with `env` loads it. */
async function coldStart(env: Record<string, string | undefined>): Promise<typeof Handler> {
  for (const name of ['JWT_SECRET', 'JWT_JWKS_URL', 'JWT_ISSUER', 'JWT_AUDIENCE', 'ALLOW_ANONYMOUS']) {
    vi.stubEnv(name, env[name] ?? '');
  }
  // Quiet unless a test reads the log lines.
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  vi.resetModules();
  return (await import('../../src/aws/handlers/authorize.js')).handler;
}

/** What API Gateway makes of the outcome: the emulator's reading, tested against AWS's behaviour elsewhere. */
async function gatewayDecision(handler: typeof Handler, event: ConnectAuthorizerEvent) {
  const outcome = await handler(event).then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
  return decide(outcome, ARN);
}

const hs256 = (claims: Record<string, unknown> = {}, expiresIn: string | number = '1h') =>
  new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('alice')
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(key);

/** Log lines written while `call` runs. */
async function logsOf(call: () => Promise<unknown>): Promise<string> {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => chunks.push(String(chunk)) > 0);
  const errorSpy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => chunks.push(String(chunk)) > 0);
  try {
    await call();
  } finally {
    spy.mockRestore();
    errorSpy.mockRestore();
  }
  return chunks.join('');
}

afterEach(() => vi.unstubAllEnvs());

describe('authorize (HS256 with JWT_SECRET)', () => {
  it('a valid token is allowed on the $connect ARN, its claims in the context', async () => {
    const handler = await coldStart({ JWT_SECRET: SECRET });
    const token = await hs256({ info: { name: 'Alice' }, channels: { 'chat:*': ['subscribe'] } });

    const result = await handler(connectAuthorizerEvent({ token }));

    expect(result.principalId).toBe('alice');
    expect(result.policyDocument.Statement).toEqual([{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: ARN }]);
    expect(identityFromContext({ ...result.context }, {})).toEqual({
      userId: 'alice',
      info: { name: 'Alice' },
      capabilities: { 'chat:*': ['subscribe'] },
    });
    expect(decide({ result }, ARN)).toMatchObject({ allowed: true });
  });

  it('without a channels claim the user gets DEFAULT_CAPABILITIES (everything, by default)', async () => {
    const handler = await coldStart({ JWT_SECRET: SECRET });

    const result = await handler(connectAuthorizerEvent({ token: await hs256() }));

    expect(identityFromContext({ ...result.context }, {})).toEqual({
      userId: 'alice',
      info: null,
      capabilities: { '*': ['subscribe', 'publish', 'presence', 'history'] },
    });
  });

  it('takes DEFAULT_CAPABILITIES from the environment', async () => {
    const handler = await coldStart({ JWT_SECRET: SECRET, DEFAULT_CAPABILITIES: '{"news":["subscribe"]}' });

    const result = await handler(connectAuthorizerEvent({ token: await hs256() }));

    expect(JSON.parse(result.context.capabilities)).toEqual({ news: ['subscribe'] });
  });

  it('accepts Authorization: Bearer from clients that can set headers; the query wins over it', async () => {
    const handler = await coldStart({ JWT_SECRET: SECRET });
    const bob = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('bob')
      .setExpirationTime('1h')
      .sign(key);

    expect((await handler(connectAuthorizerEvent({}, { authorization: `Bearer ${bob}` }))).principalId).toBe('bob');
    const both = connectAuthorizerEvent({ token: await hs256() }, { Authorization: `Bearer ${bob}` });
    expect((await handler(both)).principalId).toBe('alice');
  });

  const badTokens: [string, () => Promise<string>][] = [
    [
      'a wrong signature',
      () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('alice')
          .setExpirationTime('1h')
          .sign(new TextEncoder().encode(`${SECRET}-other`)),
    ],
    ['alg none', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'alice', exp: nowSeconds() + 3600 })}.`],
    [
      'alg none with a signature',
      async () => {
        const [, payload, signature] = (await hs256()).split('.');
        return `${b64({ alg: 'none' })}.${payload}.${signature}`;
      },
    ],
    ['an expired token', () => hs256({}, nowSeconds() - 60)],
    ['a token without exp', () => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').sign(key)],
    [
      'a token not yet valid',
      () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('alice')
          .setNotBefore('10m')
          .setExpirationTime('1h')
          .sign(key),
    ],
    ['malformed (not a JWT)', async () => 'not-a-jwt'],
    ['malformed (three parts of garbage)', async () => 'abc.def.ghi'],
    [
      'HS512 (not an accepted algorithm)',
      () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS512' })
          .setSubject('alice')
          .setExpirationTime('1h')
          .sign(new TextEncoder().encode(SECRET.repeat(2))),
    ],
    ['no sub', () => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(key)],
    [
      'a sub that is not a string',
      () => new SignJWT({ sub: 42 } as never).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(key),
    ],
    [
      'an empty sub',
      () => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('').setExpirationTime('1h').sign(key),
    ],
    [
      'a sub over 256 characters',
      () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('a'.repeat(257))
          .setExpirationTime('1h')
          .sign(key),
    ],
    ['info over 1 KB', () => hs256({ info: { name: 'x'.repeat(1100) } })],
    ['info that is not an object', () => hs256({ info: ['Alice'] })],
    ['info that is a string', () => hs256({ info: 'Alice' })],
    ['a channels claim that is not capabilities', () => hs256({ channels: { 'chat:*': ['fly'] } })],
    ['a channels claim with a bad pattern', () => hs256({ channels: { 'bad channel!': ['subscribe'] } })],
    ['a channels claim that is a list', () => hs256({ channels: ['chat:*'] })],
  ];

  it.each(badTokens)('%s → 401, the reason logged without the token', async (_name, makeToken) => {
    const handler = await coldStart({ JWT_SECRET: SECRET, ALLOW_ANONYMOUS: 'true', POWERTOOLS_LOG_LEVEL: 'WARN' });
    const token = await makeToken();
    const event = connectAuthorizerEvent({ token });

    const logs = await logsOf(async () => {
      await expect(handler(event)).rejects.toThrow(/^Unauthorized$/);
      expect(await gatewayDecision(handler, event)).toMatchObject({ allowed: false, statusCode: 401 });
    });
    expect(logs).toMatch(/"message":"connection refused".*"reason":"[^"]+/);
    expect(logs).not.toContain(token);
    const signature = token.split('.')[2];
    if (signature) expect(logs).not.toContain(signature);
  });

  it('info of exactly 1 KB is accepted', async () => {
    const handler = await coldStart({ JWT_SECRET: SECRET });
    const info = { n: 'x'.repeat(1024 - '{"n":""}'.length) };

    const result = await handler(connectAuthorizerEvent({ token: await hs256({ info }) }));

    expect(JSON.parse(result.context.info!)).toEqual(info);
  });

  it('checks iss and aud when JWT_ISSUER / JWT_AUDIENCE are set', async () => {
    const handler = await coldStart({
      JWT_SECRET: SECRET,
      JWT_ISSUER: 'https://issuer.example',
      JWT_AUDIENCE: 'relay',
    });
    const token = (iss: string, aud: string) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('alice')
        .setIssuer(iss)
        .setAudience(aud)
        .setExpirationTime('1h')
        .sign(key);

    expect(
      (await handler(connectAuthorizerEvent({ token: await token('https://issuer.example', 'relay') }))).principalId,
    ).toBe('alice');
    await expect(
      handler(connectAuthorizerEvent({ token: await token('https://evil.example', 'relay') })),
    ).rejects.toThrow('Unauthorized');
    await expect(
      handler(connectAuthorizerEvent({ token: await token('https://issuer.example', 'other') })),
    ).rejects.toThrow('Unauthorized');
    await expect(handler(connectAuthorizerEvent({ token: await hs256() }))).rejects.toThrow('Unauthorized');
  });
});

describe('authorize: no token', () => {
  it('is refused with 401 unless ALLOW_ANONYMOUS=true', async () => {
    const handler = await coldStart({ JWT_SECRET: SECRET });

    expect(await gatewayDecision(handler, connectAuthorizerEvent())).toMatchObject({ allowed: false, statusCode: 401 });
    expect(await gatewayDecision(handler, connectAuthorizerEvent({ token: '' }))).toMatchObject({ statusCode: 401 });
  });

  it('is anonymous with ANONYMOUS_CAPABILITIES when ALLOW_ANONYMOUS=true', async () => {
    const handler = await coldStart({ ALLOW_ANONYMOUS: 'true' });

    const result = await handler(connectAuthorizerEvent());

    expect(result.principalId).toBe('anonymous');
    expect(result.context).toEqual({
      capabilities: JSON.stringify({ default: ['subscribe', 'publish', 'presence', 'history'] }),
    });
    expect(identityFromContext({ ...result.context }, {})).toMatchObject({ userId: null, info: null });
    expect(decide({ result }, ARN)).toMatchObject({ allowed: true });
  });

  it('takes ANONYMOUS_CAPABILITIES from the environment', async () => {
    const handler = await coldStart({ ALLOW_ANONYMOUS: 'true', ANONYMOUS_CAPABILITIES: '{"lobby":["subscribe"]}' });

    expect(JSON.parse((await handler(connectAuthorizerEvent())).context.capabilities)).toEqual({
      lobby: ['subscribe'],
    });
  });

  it('a token given where no key is configured (anonymous only) is refused, not taken as anonymous', async () => {
    const handler = await coldStart({ ALLOW_ANONYMOUS: 'true' });

    await expect(handler(connectAuthorizerEvent({ token: await hs256() }))).rejects.toThrow(/^Unauthorized$/);
  });
});

describe('authorize: a setting that lets no one in, or is malformed, fails loudly (500), every time', () => {
  it.each([
    [{}, /no one could connect/],
    [{ JWT_SECRET: 'short' }, /JWT_SECRET must be at least 32 bytes/],
    [{ JWT_JWKS_URL: 'http://keys.example/jwks.json' }, /JWT_JWKS_URL must be an https:\/\/ URL/],
    [{ JWT_JWKS_URL: 'not a url' }, /JWT_JWKS_URL must be a URL/],
    [{ ALLOW_ANONYMOUS: 'yes' }, /ALLOW_ANONYMOUS must be true or false/],
  ])('%j', async (env, message) => {
    const handler = await coldStart(env);

    await expect(handler(connectAuthorizerEvent())).rejects.toThrow(message);
    await expect(handler(connectAuthorizerEvent())).rejects.toThrow(message);
    expect(await gatewayDecision(handler, connectAuthorizerEvent())).toMatchObject({ statusCode: 500 });
  });
});

describe('authorize (RS256 / ES256 from JWT_JWKS_URL, served on 127.0.0.1)', () => {
  const ISSUER = 'https://issuer.example/';
  let server: Server;
  let jwksUrl: string;
  let fetches = 0;
  const keys: Record<string, Awaited<ReturnType<typeof generateKeyPair>>> = {};

  beforeAll(async () => {
    keys.RS256 = await generateKeyPair('RS256', { extractable: true });
    keys.ES256 = await generateKeyPair('ES256', { extractable: true });
    const jwks = {
      keys: [
        { ...(await exportJWK(keys.RS256.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
        { ...(await exportJWK(keys.ES256.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
      ],
    };
    server = createServer((_request, response) => {
      fetches++;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const signed = (alg: 'RS256' | 'ES256', kid: string, privateKey = keys[alg]!.privateKey) =>
    new SignJWT({ info: { name: alg } })
      .setProtectedHeader({ alg, kid })
      .setSubject(`user-${alg}`)
      .setIssuer(ISSUER)
      .setExpirationTime('1h')
      .sign(privateKey);

  it.each(['RS256', 'ES256'] as const)('a %s token signed by a key in the set is allowed', async (alg) => {
    const handler = await coldStart({ JWT_ISSUER: ISSUER, JWT_JWKS_URL: jwksUrl });

    const result = await handler(
      connectAuthorizerEvent({ token: await signed(alg, alg === 'RS256' ? 'rsa-1' : 'ec-1') }),
    );

    expect(result.principalId).toBe(`user-${alg}`);
    expect(JSON.parse(result.context.info!)).toEqual({ name: alg });
  });

  it('fetches the key set once per cold start, not once per connection', async () => {
    const handler = await coldStart({ JWT_ISSUER: ISSUER, JWT_JWKS_URL: jwksUrl });
    const before = fetches;

    for (let i = 0; i < 3; i++) await handler(connectAuthorizerEvent({ token: await signed('ES256', 'ec-1') }));

    expect(fetches - before).toBe(1);
  });

  it('a token signed by a key outside the set is refused', async () => {
    const handler = await coldStart({ JWT_ISSUER: ISSUER, JWT_JWKS_URL: jwksUrl });
    const stranger = await generateKeyPair('RS256');

    await expect(
      handler(connectAuthorizerEvent({ token: await signed('RS256', 'rsa-1', stranger.privateKey) })),
    ).rejects.toThrow(/^Unauthorized$/);
    await expect(
      handler(connectAuthorizerEvent({ token: await signed('RS256', 'unknown-kid', stranger.privateKey) })),
    ).rejects.toThrow(/^Unauthorized$/);
  });

  it('alg confusion: HS256 "signed" with the public key is refused, with or without JWT_SECRET', async () => {
    const pem = await exportSPKI(keys.RS256!.publicKey);
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
      .setSubject('mallory')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(pem));

    for (const env of [
      { JWT_ISSUER: ISSUER, JWT_JWKS_URL: jwksUrl },
      { JWT_ISSUER: ISSUER, JWT_JWKS_URL: jwksUrl, JWT_SECRET: SECRET },
    ]) {
      const handler = await coldStart(env);
      await expect(handler(connectAuthorizerEvent({ token: forged }))).rejects.toThrow(/^Unauthorized$/);
    }
  });

  it('an RS256 token is refused when only JWT_SECRET is configured', async () => {
    const handler = await coldStart({ JWT_SECRET: SECRET });

    await expect(handler(connectAuthorizerEvent({ token: await signed('RS256', 'rsa-1') }))).rejects.toThrow(
      /^Unauthorized$/,
    );
  });

  it('with both configured, HS256 and RS256 tokens are each checked with their own key', async () => {
    const handler = await coldStart({ JWT_ISSUER: ISSUER, JWT_JWKS_URL: jwksUrl, JWT_SECRET: SECRET });

    // One issuer for both: JWT_ISSUER applies to every token.
    expect((await handler(connectAuthorizerEvent({ token: await hs256({ iss: ISSUER }) }))).principalId).toBe('alice');
    expect((await handler(connectAuthorizerEvent({ token: await signed('RS256', 'rsa-1') }))).principalId).toBe(
      'user-RS256',
    );
  });

  it("a key set that cannot be reached is our failure (500), not the token's (401)", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const handler = await coldStart({ JWT_ISSUER: ISSUER, JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json` });
    const event = connectAuthorizerEvent({ token: await signed('RS256', 'rsa-1') });

    expect(await gatewayDecision(handler, event)).toMatchObject({ allowed: false, statusCode: 500 });
  });
});

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
