/** Root of every error the relay raises on purpose; anything else is a bug. */
export class RelayError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An error as one log line: `Name: message`. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The connection no longer exists at the gateway (API Gateway answered 410 GoneException). */
export class ConnectionGoneError extends RelayError {
  constructor(
    readonly connectionId: string,
    options?: { cause?: unknown },
  ) {
    super(`connection ${connectionId} is gone`, options);
  }
}

/** A client frame the relay cannot act on; `code` is stable and machine-readable. */
export class InvalidMessageError extends RelayError {
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
  | 'message_too_large';
