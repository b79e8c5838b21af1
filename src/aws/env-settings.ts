import { type Capabilities, parseCapabilities, RelayError } from '../core/index.js';

/** A setting is missing or malformed; the message names it. */
export class ConfigError extends RelayError {
  override name = 'ConfigError';
}

/** The environment as Lambda gives it. */
export type Env = Record<string, string | undefined>;

/** A capabilities setting (JSON), or `fallback` when unset. */
export function capabilities(env: Env, name: string, fallback: Capabilities): Capabilities {
  return json(env, name, (raw) => parseCapabilities(parseJson(raw)), fallback);
}

/** A JSON setting read by `parse`, which throws a TypeError saying what is wrong. */
export function json<T>(env: Env, name: string, parse: (raw: string) => T, fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  try {
    return parse(raw);
  } catch (error) {
    throw new ConfigError(`environment variable ${name} ${error instanceof Error ? error.message : String(error)}`);
  }
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new TypeError('is not valid JSON');
  }
}

export function required(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new ConfigError(`environment variable ${name} is required but not set`);
  return value;
}

export function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`environment variable ${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

export function positiveInteger(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new ConfigError(`environment variable ${name} must be a positive integer, got "${raw}"`);
  }
  return value;
}

/** `true` or `false` (any case); `fallback` when unset. */
export function booleanSetting(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^true$/i.test(raw)) return true;
  if (/^false$/i.test(raw)) return false;
  throw new ConfigError(`environment variable ${name} must be true or false, got "${raw}"`);
}
