import type { JWTPayload } from 'jose';
import { type Capabilities, type Identity, parseCapabilities, parseInfo } from '../core/index.js';
import type { AuthConfig } from './auth-config.js';
import { createJwtVerifier, TokenRejectedError } from './jwt-verifier.js';

/** A `sub` longer than this is refused: it rides on every message frame and every table item. */
export const MAX_USER_ID_LENGTH = 256;

/** Who connects: from a token, or anonymous when there is none. */
export type IdentifyConnection = (token: string | undefined) => Promise<Identity>;

/**
 * The identity behind a handshake: a verified token's claims, or an anonymous identity when no
 * token is given and anonymous connections are allowed. Throws TokenRejectedError otherwise.
 */
export function createConnectionIdentifier(config: AuthConfig): IdentifyConnection {
  const verify = config.jwtSecret || config.jwksUrl ? createJwtVerifier(config) : undefined;
  return async (token) => {
    if (token === undefined) {
      if (!config.allowAnonymous) throw new TokenRejectedError('no token, and ALLOW_ANONYMOUS is not true');
      return { userId: null, info: null, capabilities: config.anonymousCapabilities };
    }
    if (!verify) throw new TokenRejectedError('a token was given, but neither JWT_SECRET nor JWT_JWKS_URL is set');
    return identityFromClaims(await verify(token), config.defaultCapabilities);
  };
}

/** The identity a verified token's claims describe; throws TokenRejectedError naming the bad claim. */
export function identityFromClaims(claims: JWTPayload, defaultCapabilities: Capabilities): Identity {
  const { sub, info, channels } = claims;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_USER_ID_LENGTH) {
    throw new TokenRejectedError(`"sub" claim must be a string of 1 to ${MAX_USER_ID_LENGTH} characters`);
  }
  return { userId: sub, info: infoOf(info), capabilities: capabilitiesOf(channels, defaultCapabilities) };
}

function infoOf(info: unknown): Record<string, unknown> | null {
  try {
    return parseInfo(info);
  } catch (error) {
    throw new TokenRejectedError(`"info" claim ${(error as Error).message}`);
  }
}

function capabilitiesOf(channels: unknown, defaults: Capabilities): Capabilities {
  if (channels === undefined) return defaults;
  try {
    return parseCapabilities(channels);
  } catch (error) {
    throw new TokenRejectedError(`"channels" claim ${(error as Error).message}`);
  }
}
