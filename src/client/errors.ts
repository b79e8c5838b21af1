/** An error with the protocol's error code, or one of the library's: timeout, disconnected, closed, queue_full, refused. */
export class ClientError extends Error {
  /** On a publish's rejection: the key it was sent with. Publish again with it, and it is delivered at most once. */
  idempotencyKey?: string;

  constructor(
    readonly code: string,
    message: string = code,
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

/** The code of a ClientError, undefined for anything else. */
export const codeOf = (error: unknown): string | undefined => (error instanceof ClientError ? error.code : undefined);
