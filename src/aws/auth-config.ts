import { ALL_CAPABILITIES, type Capabilities, DEFAULT_ANONYMOUS_CAPABILITIES } from '../core/index.js';
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
  const jwksUrl = env.JWT_JWKS_URL ? parseUrl(env.JWT_JWKS_URL) : undefined;
  const config: AuthConfig = {
    jwtSecret: env.JWT_SECRET || undefined,
    jwksUrl,
    issuer: env.JWT_ISSUER || undefined,
    audience: env.JWT_AUDIENCE || undefined,
    allowAnonymous: booleanSetting(env, 'ALLOW_ANONYMOUS', false),
    defaultCapabilities: capabilities(env, 'DEFAULT_CAPABILITIES', ALL_CAPABILITIES),
    anonymousCapabilities: capabilities(env, 'ANONYMOUS_CAPABILITIES', DEFAULT_ANONYMOUS_CAPABILITIES),
  };
  if (!config.jwtSecret && !config.jwksUrl && !config.allowAnonymous) {
    throw new ConfigError(
      'no one could connect: set JWT_SECRET (HS256) or JWT_JWKS_URL (RS256/ES256), or ALLOW_ANONYMOUS=true',
    );
  }
  return config;
}

function parseUrl(raw: string): URL {
  try {
    return new URL(raw);
  } catch {
    throw new ConfigError(`environment variable JWT_JWKS_URL must be a URL, got "${raw}"`);
  }
}
