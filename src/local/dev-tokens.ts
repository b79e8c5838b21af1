import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SignJWT } from 'jose';
import { MAX_USER_ID_LENGTH } from '../aws/jwt-identity.js';
import { type Capabilities, parseCapabilities } from '../core/capabilities.js';
import { RelayError } from '../core/errors.js';
import { parseInfo } from '../core/identity.js';

/** What a dev token says: who (`sub`), what others see of them, and what they may do. */
export interface DevTokenRequest {
  user: string;
  info?: Record<string, unknown>;
  /** Capabilities (`{"chat:*": ["subscribe", "publish"]}`); checked here, as the authorizer checks them. */
  channels?: Capabilities | Record<string, unknown>;
  /** A jose time span (`'24h'`, `'15m'`) or seconds; 24 hours unless given. */
  expiresIn?: string | number;
}

export interface DevTokenSigner {
  /** An HS256 token the dev server's authorizer accepts; throws DevTokenError on a bad request. */
  sign(request: DevTokenRequest): Promise<string>;
}

/** A token request the authorizer would refuse anyway; the message says which field. */
export class DevTokenError extends RelayError {
  override name = 'DevTokenError';
}

/** Where the random dev secret is kept, so `npm run dev` restarts and `npm run token` agree. */
export const DEV_SECRET_FILE = join('node_modules', '.cache', 'edge-relay', 'dev-jwt-secret');

const DEFAULT_EXPIRY = '24h';

/** Signs dev tokens with `secret` (HS256), checked as the authorizer checks them. */
export function createDevTokenSigner(secret: string): DevTokenSigner {
  const key = new TextEncoder().encode(secret);
  return {
    async sign({ user, info, channels, expiresIn = DEFAULT_EXPIRY }) {
      // The authorizer's own rule for `sub`, so a dev token is never one it refuses.
      if (typeof user !== 'string' || user.length === 0 || user.length > MAX_USER_ID_LENGTH) {
        throw new DevTokenError(`"user" must be a string of 1 to ${MAX_USER_ID_LENGTH} characters`);
      }
      const claims: Record<string, unknown> = {};
      const checkedInfoClaim = checkedInfo(info);
      if (checkedInfoClaim !== null) claims.info = checkedInfoClaim;
      if (channels !== undefined) claims.channels = checkedChannels(channels);
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(user)
        .setIssuedAt()
        .setExpirationTime(expiresIn)
        .sign(key);
    },
  };
}

/**
 * The secret dev tokens are signed with: JWT_SECRET when set, else a random one made once and
 * kept (mode 0600) under `root`'s node_modules/.cache, as build tools keep their caches.
 */
export function devSecret(root: string, env: Record<string, string | undefined> = process.env): string {
  if (env.JWT_SECRET) return env.JWT_SECRET;
  const file = join(root, DEV_SECRET_FILE);
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept) return kept;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(32).toString('base64url');
  mkdirSync(dirname(file), { recursive: true });
  // `wx`: two processes starting at once keep the first one's secret.
  try {
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw error;
  }
  chmodSync(file, 0o600);
  return secret;
}

function checkedInfo(info: unknown): Record<string, unknown> | null {
  try {
    return parseInfo(info);
  } catch (error) {
    throw new DevTokenError(`"info" ${(error as Error).message}`);
  }
}

function checkedChannels(channels: unknown): Capabilities {
  try {
    return parseCapabilities(channels);
  } catch (error) {
    throw new DevTokenError(`"channels" ${(error as Error).message}`);
  }
}
