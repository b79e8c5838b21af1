import { fileURLToPath } from 'node:url';
import { loadAuthConfig } from '../aws/auth-config.js';
import { createDevTokenSigner, type DevTokenSigner, devSecret } from './dev-tokens.js';
import type { FunctionDefinition } from './serverless-config.js';

/** The project folder (its node_modules/.cache keeps the dev secret): two levels up from src/local/. */
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface DevIdentity {
  /** The functions as they will run: an authorizer without a key gets the dev secret. */
  functions: Record<string, FunctionDefinition>;
  /** Signs tokens the authorizer accepts; absent when it checks an issuer's keys only (JWT_JWKS_URL). */
  signer?: DevTokenSigner;
  /**
   * The secret is the random one made for this machine, so `POST /dev/token` may hand out tokens
   * for it. A secret the developer gave (JWT_SECRET) may be a real stage's: no HTTP route signs with it.
   */
  generatedSecret: boolean;
}

/**
 * Identity under `npm run dev`. A function declaring JWT_SECRET is this project's authorizer: when
 * neither JWT_SECRET nor JWT_JWKS_URL resolved to a value it gets the dev secret (env JWT_SECRET,
 * else the random one kept on disk), so tokens from `POST /dev/token` and `npm run token` pass it.
 * Its settings are checked here, so a bad one stops the start instead of failing every handshake.
 * Other services' functions are left as they are.
 */
export function devIdentity(
  functions: Record<string, FunctionDefinition>,
  env: Record<string, string | undefined>,
  root = PROJECT_ROOT,
): DevIdentity {
  const authorizers = Object.values(functions).filter((fn) => Object.hasOwn(fn.environment, 'JWT_SECRET'));
  if (authorizers.length === 0) return { functions, generatedSecret: false };
  const configured = authorizers.find((fn) => fn.environment.JWT_SECRET)?.environment.JWT_SECRET;
  const usesIssuer = authorizers.some((fn) => fn.environment.JWT_JWKS_URL);
  const secret = configured ?? (usesIssuer ? undefined : devSecret(root, env));
  const withSecret = Object.fromEntries(
    Object.entries(functions).map(([name, fn]) => [
      name,
      authorizers.includes(fn) && !fn.environment.JWT_SECRET && secret !== undefined
        ? { ...fn, environment: { ...fn.environment, JWT_SECRET: secret } }
        : fn,
    ]),
  );
  for (const fn of authorizers) loadAuthConfig(withSecret[fn.name]!.environment);
  const generatedSecret = configured === undefined && !usesIssuer && !env.JWT_SECRET;
  return {
    functions: withSecret,
    generatedSecret,
    ...(secret !== undefined && { signer: createDevTokenSigner(secret) }),
  };
}
