import { isChannelName, personalChannelOwner } from './channels.js';

/** What a connection may do on a channel, as in Ably's capabilities. */
export const OPERATIONS = ['subscribe', 'publish', 'presence', 'history'] as const;
export type Operation = (typeof OPERATIONS)[number];

/**
 * Channel pattern → allowed operations. A pattern is an exact channel name, a prefix ending in
 * `*` (`chat:*`), or `*` (every channel).
 */
export type Capabilities = Readonly<Record<string, readonly Operation[]>>;

/** DEFAULT_CAPABILITIES unless configured: everything, everywhere (other users' personal channels never). */
export const ALL_CAPABILITIES: Capabilities = Object.freeze({ '*': OPERATIONS });

/** ANONYMOUS_CAPABILITIES unless configured: the default channel only. */
export const DEFAULT_ANONYMOUS_CAPABILITIES: Capabilities = Object.freeze({ default: OPERATIONS });

/**
 * True when a connection of `userId` (null: anonymous) holding `capabilities` may do `operation`
 * on `channel`. Personal channels are decided by ownership before any pattern: another user's is
 * always closed, and a user may always subscribe to their own (it is joined at $connect anyway).
 */
export function allows(
  capabilities: Capabilities,
  channel: string,
  operation: Operation,
  userId: string | null,
): boolean {
  const owner = personalChannelOwner(channel);
  if (owner !== undefined) {
    if (owner !== userId) return false;
    if (operation === 'subscribe') return true;
  }
  for (const [pattern, operations] of Object.entries(capabilities)) {
    if (matches(pattern, channel) && operations.includes(operation)) return true;
  }
  return false;
}

function matches(pattern: string, channel: string): boolean {
  return pattern.endsWith('*') ? channel.startsWith(pattern.slice(0, -1)) : pattern === channel;
}

/**
 * Validates a capabilities value (a token's `channels` claim, or a setting already parsed from
 * JSON). Throws a TypeError naming the bad pattern or operation.
 */
export function parseCapabilities(value: unknown): Capabilities {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError('must be an object of channel pattern to operations, like {"chat:*":["subscribe"]}');
  }
  // No prototype: a pattern named `__proto__` is a channel name like any other.
  const capabilities: Record<string, readonly Operation[]> = Object.create(null);
  for (const [pattern, operations] of Object.entries(value)) {
    if (!isPattern(pattern)) {
      throw new TypeError(`"${pattern.slice(0, 64)}" is not a channel pattern: use a name, a prefix ending in *, or *`);
    }
    if (!Array.isArray(operations) || !operations.every(isOperation)) {
      throw new TypeError(`"${pattern}" must list operations from ${OPERATIONS.join(', ')}`);
    }
    capabilities[pattern] = Object.freeze([...operations]);
  }
  return Object.freeze(capabilities);
}

function isPattern(pattern: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return isChannelName(pattern.slice(0, -1));
  return isChannelName(pattern);
}

function isOperation(value: unknown): value is Operation {
  return (OPERATIONS as readonly unknown[]).includes(value);
}
