import { InvalidMessageError } from './errors.js';

/**
 * Every connection is subscribed to this channel at $connect, and `sendmessage` publishes to it:
 * the contract from before channels existed.
 */
export const DEFAULT_CHANNEL = 'default';

/** The namespace of personal channels: `user:<sub>` reaches every connection of that user. */
export const PERSONAL_NAMESPACE = 'user';

/** 1–128 characters; the same set Centrifugo and Ably allow, minus what needs escaping in URLs. */
const CHANNEL_NAME = /^[A-Za-z0-9_\-.:@=]{1,128}$/;

/** Per-namespace behaviour, declared once in serverless.yml (custom.namespaces) and given as NAMESPACES. */
export interface NamespaceOptions {
  /** Members can be listed (issue 12). */
  presence: boolean;
  /** Subscribers receive join and leave events (issue 12). */
  joinLeave: boolean;
  /** Publications kept per channel; 0 keeps none (issue 12). */
  historySize: number;
  /** How long a kept publication lives (issue 12). */
  historyTtlSeconds: number;
  /** False: only the server API may publish. */
  clientPublish: boolean;
}

/** What a channel in an undeclared namespace gets. */
export const DEFAULT_NAMESPACE_OPTIONS: NamespaceOptions = Object.freeze({
  presence: false,
  joinLeave: false,
  historySize: 0,
  historyTtlSeconds: 0,
  clientPublish: true,
});

/**
 * The most publications a namespace may keep per channel: a recovery replays them one
 * PostToConnection at a time, which must fit in one invocation (API Gateway gives a route 29 s).
 */
export const MAX_HISTORY_SIZE = 1000;

/** Namespace name → its options; channels without a `:` are in the namespace `''`. */
export type Namespaces = Readonly<Record<string, NamespaceOptions>>;

/** True when `name` may name a channel. */
export function isChannelName(name: unknown): name is string {
  return typeof name === 'string' && CHANNEL_NAME.test(name);
}

/** Throws `invalid_channel` naming what is wrong, else returns the name. */
export function assertChannelName(name: unknown): string {
  if (isChannelName(name)) return name;
  const shown = typeof name === 'string' ? `"${name.slice(0, 64)}${name.length > 64 ? '…' : ''}"` : typeof name;
  throw new InvalidMessageError(
    'invalid_channel',
    `${shown} is not a channel name: use 1-128 characters from A-Z a-z 0-9 _ - . : @ =`,
  );
}

/** The part before the first `:` (`chat:lobby` → `chat`); `''` when there is none. */
export function namespaceOf(channel: string): string {
  const colon = channel.indexOf(':');
  return colon === -1 ? '' : channel.slice(0, colon);
}

/** The options that apply to `channel`. */
export function optionsFor(channel: string, namespaces: Namespaces): NamespaceOptions {
  // hasOwn: a namespace named `constructor` or `__proto__` must not find Object's own members.
  const namespace = namespaceOf(channel);
  return Object.hasOwn(namespaces, namespace) ? namespaces[namespace]! : DEFAULT_NAMESPACE_OPTIONS;
}

/**
 * The personal channel of a user, or undefined when the user id cannot form a channel name
 * (an Auth0 `auth0|123` sub, say): such a user connects but has no personal channel.
 */
export function personalChannel(userId: string): string | undefined {
  const channel = `${PERSONAL_NAMESPACE}:${userId}`;
  return isChannelName(channel) ? channel : undefined;
}

/** The user a personal channel belongs to, or undefined for any other channel. */
export function personalChannelOwner(channel: string): string | undefined {
  return namespaceOf(channel) === PERSONAL_NAMESPACE ? channel.slice(PERSONAL_NAMESPACE.length + 1) : undefined;
}

/**
 * Parses NAMESPACES: `{"chat": {"presence": true, ...}}`. Missing options take the defaults;
 * anything else throws a TypeError naming the namespace and the option.
 */
export function parseNamespaces(json: string): Namespaces {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new TypeError('is not valid JSON');
  }
  if (!isPlainObject(value)) throw new TypeError('must be a JSON object of namespace name to options');
  // No prototype: a namespace named `__proto__` is a key like any other.
  const namespaces: Record<string, NamespaceOptions> = Object.create(null);
  for (const [name, raw] of Object.entries(value)) {
    if (name !== '' && !/^[A-Za-z0-9_\-.@=]{1,127}$/.test(name)) {
      throw new TypeError(`namespace "${name}" is not a valid namespace name`);
    }
    if (!isPlainObject(raw)) throw new TypeError(`namespace "${name}" must be an object of options`);
    const options = { ...DEFAULT_NAMESPACE_OPTIONS };
    for (const [key, option] of Object.entries(raw)) {
      if (!(key in options)) {
        throw new TypeError(`namespace "${name}": unknown option "${key}"; known: ${Object.keys(options).join(', ')}`);
      }
      const expected = typeof DEFAULT_NAMESPACE_OPTIONS[key as keyof NamespaceOptions];
      const valid =
        expected === 'number' ? Number.isInteger(option) && (option as number) >= 0 : typeof option === expected;
      if (!valid) {
        const want = expected === 'number' ? 'a non-negative integer' : 'true or false';
        throw new TypeError(`namespace "${name}": option "${key}" must be ${want}`);
      }
      (options as Record<string, unknown>)[key] = option;
    }
    if (options.historySize > MAX_HISTORY_SIZE) {
      throw new TypeError(`namespace "${name}": historySize must be at most ${MAX_HISTORY_SIZE}`);
    }
    if (options.historySize > 0 && options.historyTtlSeconds === 0) {
      throw new TypeError(`namespace "${name}": historySize needs historyTtlSeconds > 0`);
    }
    namespaces[name] = Object.freeze(options);
  }
  return Object.freeze(namespaces);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
