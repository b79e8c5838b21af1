import { createRemoteJWKSet, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { AuthConfig } from './auth-config.js';

/** A token that proves nothing (bad signature, expired, malformed...); the message is for the logs only. */
export class TokenRejectedError extends Error {
  override name = 'TokenRejectedError';
}

/** Checks a compact JWS and returns its claims; throws TokenRejectedError when the token is at fault. */
export type VerifyToken = (token: string) => Promise<JWTPayload>;

/** The asymmetric algorithms a JWKS may sign with (Cognito, Auth0 and most OIDC issuers use RS256). */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'ES256'] as const;

/**
 * jose's errors that say the token is at fault. Anything else (the JWKS unreachable, slow, or
 * not a key set) is our failure: it is rethrown, so API Gateway answers 500, not 401.
 */
const TOKEN_FAULTS = new Set<string>([
  errors.JWTExpired.code,
  errors.JWTClaimValidationFailed.code,
  errors.JWTInvalid.code,
  errors.JWSInvalid.code,
  errors.JWSSignatureVerificationFailed.code,
  errors.JOSEAlgNotAllowed.code,
  errors.JOSENotSupported.code,
  errors.JWKSNoMatchingKey.code,
  errors.JWKSMultipleMatchingKeys.code,
]);

/** How long a JWKS fetch may take: an authorizer that waits longer makes every handshake hang. */
const JWKS_TIMEOUT_MS = 3_000;
/** Seconds of clock skew forgiven on `exp` / `nbf` between the issuer and Lambda. */
const CLOCK_TOLERANCE_SECONDS = 5;

/**
 * A verifier for the configured keys, built once per cold start (the JWKS is fetched on first
 * use and cached by jose). Only HS256 (JWT_SECRET) and RS256 / ES256 (JWT_JWKS_URL) are accepted:
 * `alg: none` is never verifiable in jose, and each algorithm gets only its own kind of key, so a
 * token signed with HS256 over a public key (alg confusion) finds no secret to match.
 */
export function createJwtVerifier(
  config: Pick<AuthConfig, 'jwtSecret' | 'jwksUrl' | 'issuer' | 'audience'>,
): VerifyToken {
  const secret = config.jwtSecret === undefined ? undefined : new TextEncoder().encode(config.jwtSecret);
  const jwks = config.jwksUrl && createRemoteJWKSet(config.jwksUrl, { timeoutDuration: JWKS_TIMEOUT_MS });
  const algorithms = [...(secret ? ['HS256'] : []), ...(jwks ? ASYMMETRIC_ALGORITHMS : [])];
  // jose checks the header's alg against `algorithms` before it asks for a key.
  const key: JWTVerifyGetKey = (header, token) => (header.alg === 'HS256' ? secret! : jwks!(header, token));
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms,
        issuer: config.issuer,
        audience: config.audience,
        // A token without an expiry would be good forever once leaked.
        requiredClaims: ['sub', 'exp'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      });
      return payload;
    } catch (error) {
      if (error instanceof errors.JOSEError && TOKEN_FAULTS.has(error.code)) {
        throw new TokenRejectedError(`${error.code}: ${error.message}`, { cause: error });
      }
      throw error;
    }
  };
}
