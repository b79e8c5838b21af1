import { describe, expect, it } from 'vitest';
import { loadAuthConfig } from '../../src/aws/auth-config.js';

const SECRET = 'a-unit-test-secret-long-enough-for-hs256';

describe('loadAuthConfig', () => {
  it('defaults: anonymous off, users get everything, anonymous connections the default channel', () => {
    expect(loadAuthConfig({ JWT_SECRET: SECRET })).toEqual({
      jwtSecret: SECRET,
      jwksUrl: undefined,
      issuer: undefined,
      audience: undefined,
      allowAnonymous: false,
      defaultCapabilities: { '*': ['subscribe', 'publish', 'presence', 'history'] },
      anonymousCapabilities: { default: ['subscribe', 'publish', 'presence', 'history'] },
    });
  });

  it('reads every setting; empty values are unset (serverless.yml writes "" for an unset param)', () => {
    const config = loadAuthConfig({
      JWT_SECRET: '',
      JWT_JWKS_URL: 'https://issuer.example/.well-known/jwks.json',
      JWT_ISSUER: 'https://issuer.example/',
      JWT_AUDIENCE: 'relay',
      ALLOW_ANONYMOUS: 'TRUE',
      DEFAULT_CAPABILITIES: '{"chat:*":["subscribe"]}',
      ANONYMOUS_CAPABILITIES: '',
    });

    expect(config).toMatchObject({
      jwtSecret: undefined,
      issuer: 'https://issuer.example/',
      audience: 'relay',
      allowAnonymous: true,
      defaultCapabilities: { 'chat:*': ['subscribe'] },
      anonymousCapabilities: { default: expect.any(Array) },
    });
    expect(config.jwksUrl?.href).toBe('https://issuer.example/.well-known/jwks.json');
  });

  it('a JWKS on a loopback address may use http (tests, a local issuer)', () => {
    for (const host of ['127.0.0.1:8080', 'localhost', '[::1]:9000']) {
      expect(loadAuthConfig({ JWT_JWKS_URL: `http://${host}/jwks.json`, JWT_ISSUER: 'local' }).jwksUrl?.protocol).toBe(
        'http:',
      );
    }
  });

  it.each([
    [{}, /no one could connect: set JWT_SECRET \(HS256\) or JWT_JWKS_URL \(RS256\/ES256\), or ALLOW_ANONYMOUS=true/],
    [{ ALLOW_ANONYMOUS: 'false' }, /no one could connect/],
    [{ JWT_SECRET: 'x'.repeat(31) }, /JWT_SECRET must be at least 32 bytes \(it has 31\): generate one with/],
    [{ JWT_JWKS_URL: 'http://issuer.example/jwks.json' }, /JWT_JWKS_URL must be an https:\/\/ URL/],
    [{ JWT_JWKS_URL: '::' }, /JWT_JWKS_URL must be a URL, got "::"/],
    [{ JWT_JWKS_URL: 'https://issuer.example/jwks.json' }, /JWT_JWKS_URL needs JWT_ISSUER/],
    [{ JWT_SECRET: SECRET, DEFAULT_CAPABILITIES: '{"chat:*":"all"}' }, /DEFAULT_CAPABILITIES "chat:\*" must list/],
    [{ ALLOW_ANONYMOUS: 'true', ANONYMOUS_CAPABILITIES: 'nope' }, /ANONYMOUS_CAPABILITIES is not valid JSON/],
  ])('%j → ConfigError', (env, message) => {
    expect(() => loadAuthConfig(env)).toThrow(message);
    expect(() => loadAuthConfig(env)).toThrow(expect.objectContaining({ name: 'ConfigError' }));
  });

  it('counts the secret in bytes: 32 multi-byte characters are enough, 11 are not', () => {
    expect(loadAuthConfig({ JWT_SECRET: 'é'.repeat(16) }).jwtSecret).toHaveLength(16);
    expect(() => loadAuthConfig({ JWT_SECRET: 'é'.repeat(11) })).toThrow(/it has 22/);
  });
});
