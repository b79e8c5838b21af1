import { type Capabilities, parseCapabilities } from './capabilities.js';

/** The `info` claim (name, avatar) is shown to others; kept small because it rides on every message. */
export const MAX_INFO_BYTES = 1024;

/**
 * Validates an `info` value (a token's claim, a dev token request): null or undefined is no info;
 * anything but a JSON object, or one over MAX_INFO_BYTES, throws a TypeError saying what is wrong.
 */
export function parseInfo(value: unknown): Record<string, unknown> | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError('must be a JSON object, like {"name":"Alice"}');
  }
  const bytes = new TextEncoder().encode(JSON.stringify(value)).length;
  if (bytes > MAX_INFO_BYTES) throw new TypeError(`is ${bytes} bytes as JSON; at most ${MAX_INFO_BYTES} are allowed`);
  return value as Record<string, unknown>;
}

/** Who is behind a connection, as the $connect authorizer established it. */
export interface Identity {
  /** The token's `sub`; null for an anonymous connection. */
  userId: string | null;
  /** The token's `info` claim; null when absent. */
  info: Record<string, unknown> | null;
  capabilities: Capabilities;
}

/** How a publisher appears on message frames: null for anonymous connections and the server API. */
export type UserRef = { id: string; info: Record<string, unknown> | null } | null;

/** The publisher as message frames show it. */
export function userRefOf(identity: Identity): UserRef {
  return identity.userId === null ? null : { id: identity.userId, info: identity.info };
}

/**
 * API Gateway passes an authorizer's `context` to every event of the connection, but only
 * string, number and boolean values: objects travel as JSON strings.
 */
export interface IdentityContext {
  /** Absent for anonymous connections. */
  userId?: string;
  /** JSON of the info object, when there is one. */
  info?: string;
  /** JSON of the capabilities the authorizer resolved (claim, or the default for users / anonymous). */
  capabilities: string;
}

/** What the authorizer puts in its context for `identity`. */
export function identityContext(identity: Identity): IdentityContext {
  return {
    ...(identity.userId !== null && { userId: identity.userId }),
    ...(identity.info !== null && { info: JSON.stringify(identity.info) }),
    capabilities: JSON.stringify(identity.capabilities),
  };
}

/**
 * The identity behind an event, from `requestContext.authorizer`. Without an authorizer context
 * (a service deployed without the authorizer) the connection is anonymous with `anonymous`.
 * The context was written by our authorizer, so malformed JSON here is a bug and throws.
 */
export function identityFromContext(context: Record<string, unknown> | undefined, anonymous: Capabilities): Identity {
  if (typeof context?.capabilities !== 'string') return { userId: null, info: null, capabilities: anonymous };
  return {
    userId: typeof context.userId === 'string' ? context.userId : null,
    info: typeof context.info === 'string' ? parseInfo(JSON.parse(context.info)) : null,
    capabilities: parseCapabilities(JSON.parse(context.capabilities)),
  };
}
