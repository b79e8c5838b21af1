import { ALL_CAPABILITIES, type Capabilities, DEFAULT_ANONYMOUS_CAPABILITIES } from '../core/capabilities.js';
import { booleanSetting, ConfigError, capabilities, type Env } from './env-settings.js';

/** What the $connect authorizer reads from its environment, validated once per cold start. */
export interface AuthConfig {
  /** HS256 shared secret (JWT_SECRET). */
  jwtSecret?: string;
  /** Where RS256 / ES256 public keys are published (JWT_JWKS_URL: Cognito, Auth0, any OIDC issuer). */
  jwksUrl?: URL;
  /** Checked against `iss` when set (JWT_ISSUER). */
  issuer?: string;
  /** Checked against `aud` when set (JWT_AUDIENCE). */
  audience?: string;
  /** Connections without a token are let in (ALLOW_ANONYMOUS). */
  allowAnonymous: boolean;
  /** A token without a `channels` claim gets these (DEFAULT_CAPABILITIES, JSON). */
  defaultCapabilities: Capabilities;
  /** An anonymous connection gets these (ANONYMOUS_CAPABILITIES, JSON). */
  anonymousCapabilities: Capabilities;
}

/** Reads and validates the authorizer's settings; throws ConfigError naming the first bad one. */
export function loadAuthConfig(env: Env): AuthConfig {
  const jwksUrl = env.JWT_JWKS_URL ? parseJwksUrl(env.JWT_JWKS_URL) : undefined;
  const config: AuthConfig = {
    jwtSecret: env.JWT_SECRET ? checkedSecret(env.JWT_SECRET) : undefined,
    jwksUrl,
    issuer: env.JWT_ISSUER || undefined,
    audience: env.JWT_AUDIENCE || undefined,
    allowAnonymous: booleanSetting(env, 'ALLOW_ANONYMOUS', false),
    defaultCapabilities: capabilities(env, 'DEFAULT_CAPABILITIES', ALL_CAPABILITIES),
    anonymousCapabilities: capabilities(env, 'ANONYMOUS_CAPABILITIES', DEFAULT_ANONYMOUS_CAPABILITIES),
  };
  // A key set signs tokens for every app of its tenant or user pool: only the issuer's are ours.
  if (config.jwksUrl && !config.issuer) {
    throw new ConfigError('JWT_JWKS_URL needs JWT_ISSUER: without it, tokens issued for other apps would pass');
  }
  if (!config.jwtSecret && !config.jwksUrl && !config.allowAnonymous) {
    throw new ConfigError(
      'no one could connect: set JWT_SECRET (HS256) or JWT_JWKS_URL (RS256/ES256), or ALLOW_ANONYMOUS=true',
    );
  }
  return config;
}

/** HS256 keys shorter than the hash (32 bytes, RFC 7518 3.2) can be guessed offline from any one token. */
export const MIN_SECRET_BYTES = 32;

function checkedSecret(secret: string): string {
  const bytes = Buffer.byteLength(secret);
  if (bytes < MIN_SECRET_BYTES) {
    throw new ConfigError(
      `environment variable JWT_SECRET must be at least ${MIN_SECRET_BYTES} bytes (it has ${bytes}): ` +
        'generate one with `openssl rand -base64 32`',
    );
  }
  return secret;
}

/** Keys fetched over plain HTTP could be swapped on the way; only a loopback address may use it (tests, dev). */
function parseJwksUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`environment variable JWT_JWKS_URL must be a URL, got "${raw}"`);
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ConfigError(`environment variable JWT_JWKS_URL must be an https:// URL, got "${raw}"`);
  }
  return url;
}
