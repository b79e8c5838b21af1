import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAuthConfig } from '../../src/aws/auth-config.js';
import { createConnectionIdentifier } from '../../src/aws/jwt-identity.js';
import { devIdentity } from '../../src/local/dev-identity.js';
import { createDevTokenSigner, DEV_SECRET_FILE, devSecret } from '../../src/local/dev-tokens.js';
import type { FunctionDefinition } from '../../src/local/serverless-config.js';

const SECRET = 'a-unit-test-secret-long-enough-for-hs256';
const roots: string[] = [];
const freshRoot = () => {
  const root = mkdtempSync(join(tmpdir(), 'edge-relay-dev-tokens-'));
  roots.push(root);
  return root;
};
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('createDevTokenSigner', () => {
  it('signs HS256 tokens the authorizer accepts, with sub, info, channels and a 24 h expiry', async () => {
    const token = await createDevTokenSigner(SECRET).sign({
      user: 'alice',
      info: { name: 'Alice' },
      channels: { 'chat:*': ['subscribe', 'publish'] },
    });
    const identify = createConnectionIdentifier(loadAuthConfig({ JWT_SECRET: SECRET }));

    expect(await identify(token)).toEqual({
      userId: 'alice',
      info: { name: 'Alice' },
      capabilities: { 'chat:*': ['subscribe', 'publish'] },
    });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const { exp, iat } = decodeJwt(token);
    expect(exp! - iat!).toBe(24 * 3600);
  });

  it('a token without info or channels carries neither claim', async () => {
    const claims = decodeJwt(await createDevTokenSigner(SECRET).sign({ user: 'bob', expiresIn: '1m' }));

    expect(Object.keys(claims).sort()).toEqual(['exp', 'iat', 'sub']);
  });

  it.each([
    [{ user: '' }, /"user" must be a string of 1 to 256 characters/],
    [{ user: 'a'.repeat(257) }, /"user" must be a string/],
    [{ user: 'a', info: ['x'] }, /"info" must be a JSON object/],
    [{ user: 'a', info: { bio: 'x'.repeat(1100) } }, /"info" is \d+ bytes as JSON; at most 1024/],
    [{ user: 'a', channels: { 'chat:*': ['fly'] } }, /"channels" "chat:\*" must list operations/],
  ])('refuses %j as the authorizer would', async (request, message) => {
    await expect(createDevTokenSigner(SECRET).sign(request as never)).rejects.toThrow(message);
  });
});

describe('devSecret', () => {
  it('is JWT_SECRET when set, and then writes nothing', () => {
    const root = freshRoot();

    expect(devSecret(root, { JWT_SECRET: SECRET })).toBe(SECRET);
    expect(() => statSync(join(root, DEV_SECRET_FILE))).toThrow(/ENOENT/);
  });

  it('else is made once, random and long enough, kept with mode 0600, and reused', () => {
    const root = freshRoot();

    const first = devSecret(root, {});
    const again = devSecret(root, {});

    expect(again).toBe(first);
    expect(Buffer.byteLength(first)).toBeGreaterThanOrEqual(32);
    expect(readFileSync(join(root, DEV_SECRET_FILE), 'utf8').trim()).toBe(first);
    expect(statSync(join(root, DEV_SECRET_FILE)).mode & 0o777).toBe(0o600);
    expect(devSecret(freshRoot(), {})).not.toBe(first);
  });

  it('an empty kept file is replaced by a new secret', () => {
    const root = freshRoot();
    const file = join(root, DEV_SECRET_FILE);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, '\n');

    expect(() => devSecret(root, {})).not.toThrow();
  });
});

const fn = (name: string, environment: Record<string, string>): FunctionDefinition => ({
  name,
  deployedName: `svc-local-${name}`,
  handler: `src/${name}.handler`,
  timeoutSeconds: 29,
  memorySize: 1024,
  environment,
  servesHttp: false,
});

describe('devIdentity (npm run dev)', () => {
  const connect = fn('connect', { CONNECTIONS_TABLE: 't' });

  it('gives an authorizer without a key the dev secret, and a signer for it', async () => {
    const root = freshRoot();
    const authorize = fn('authorize', { JWT_SECRET: '', JWT_JWKS_URL: '', ALLOW_ANONYMOUS: 'true' });

    const { functions, signer } = devIdentity({ authorize, connect }, {}, root);

    expect(functions.authorize!.environment.JWT_SECRET).toBe(devSecret(root, {}));
    expect(functions.connect).toBe(connect);
    const identify = createConnectionIdentifier(loadAuthConfig(functions.authorize!.environment));
    expect((await identify(await signer!.sign({ user: 'alice' }))).userId).toBe('alice');
  });

  it('keeps a configured secret and signs with it', async () => {
    const authorize = fn('authorize', { JWT_SECRET: SECRET });

    const { functions, signer } = devIdentity({ authorize }, {}, freshRoot());

    expect(functions.authorize).toBe(authorize);
    expect(decodeJwt(await signer!.sign({ user: 'a' })).sub).toBe('a');
  });

  it('with only an issuer (JWT_JWKS_URL) there is no secret to add and no signer', () => {
    const authorize = fn('authorize', {
      JWT_SECRET: '',
      JWT_JWKS_URL: 'https://issuer.example/jwks.json',
      JWT_ISSUER: 'https://issuer.example/',
    });

    const result = devIdentity({ authorize }, {}, freshRoot());

    expect(result.functions.authorize).toBe(authorize);
    expect(result.signer).toBeUndefined();
  });

  it('leaves services without JWT_SECRET alone', () => {
    const functions = { connect };

    expect(devIdentity(functions, {}, freshRoot())).toEqual({ functions, generatedSecret: false });
  });

  it('POST /dev/token signs only with the generated secret, never with one the developer gave', () => {
    const authorize = fn('authorize', { JWT_SECRET: '', JWT_JWKS_URL: '', ALLOW_ANONYMOUS: 'true' });
    expect(devIdentity({ authorize }, {}, freshRoot()).generatedSecret).toBe(true);
    expect(devIdentity({ authorize }, { JWT_SECRET: 'd'.repeat(32) }, freshRoot()).generatedSecret).toBe(false);
    const configured = fn('authorize', { JWT_SECRET: 'c'.repeat(32), JWT_JWKS_URL: '', ALLOW_ANONYMOUS: 'true' });
    expect(devIdentity({ authorize: configured }, {}, freshRoot()).generatedSecret).toBe(false);
  });

  it('a bad authorizer setting stops the start with the setting named', () => {
    expect(() => devIdentity({ authorize: fn('authorize', { JWT_SECRET: 'short' }) }, {}, freshRoot())).toThrow(
      /JWT_SECRET must be at least 32 bytes/,
    );
    expect(() =>
      devIdentity({ authorize: fn('authorize', { JWT_SECRET: '', ALLOW_ANONYMOUS: 'maybe' }) }, {}, freshRoot()),
    ).toThrow(/ALLOW_ANONYMOUS must be true or false/);
  });
});
