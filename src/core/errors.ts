/**
 * Root of every error the relay raises on purpose; anything else is a bug. Each subclass sets
 * its own `name` as a literal, which survives any minifier setting (`new.target.name` would not).
 */
export class RelayError extends Error {
  override name = 'RelayError';
}

/** An error as one line for humans: `Name: message`. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The connection no longer exists at the gateway (API Gateway answered 410 GoneException). */
export class ConnectionGoneError extends RelayError {
  override name = 'ConnectionGoneError';
  constructor(
    readonly connectionId: string,
    options?: ErrorOptions,
  ) {
    super(`connection ${connectionId} is gone`, options);
  }
}

/** A client frame the relay cannot act on; `code` is stable and machine-readable. */
export class InvalidMessageError extends RelayError {
  override name = 'InvalidMessageError';
  constructor(
    readonly code: InvalidMessageCode,
    message: string,
  ) {
    super(message);
  }
}

export type InvalidMessageCode =
  | 'invalid_json'
  | 'not_an_object'
  | 'missing_action'
  | 'unknown_action'
  | 'missing_data'
  | 'message_too_large'
  | 'invalid_channel'
  | 'invalid_request'
  | 'forbidden'
  | 'too_many_subscriptions'
  /** A publish with this idempotency key is still being placed: retry shortly. */
  | 'in_progress';
