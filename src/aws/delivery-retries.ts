import { type RetryPolicy, THROTTLING_BACKOFF_MS, TRANSIENT_BACKOFF_MS } from './retry.js';

/** Connection errors that mean the request never reached the server. */
const NOT_SENT_ERRORS: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * When a PostToConnection may be sent again: only when API Gateway cannot have delivered it,
 * i.e. throttling (429) and requests that never left. A 5xx or a socket dropped mid-request may
 * have been delivered already; sending it again could hand the client the same frame twice.
 * Both senders (signed HTTP and the SDK client) use this one policy.
 */
export function deliveryRetries(maxAttempts = 3): RetryPolicy {
  return {
    maxAttempts,
    backoffBaseMs(error) {
      const { $metadata, code } = (error ?? {}) as { $metadata?: { httpStatusCode?: number }; code?: unknown };
      if ($metadata?.httpStatusCode === 429) return THROTTLING_BACKOFF_MS;
      if (typeof code === 'string' && NOT_SENT_ERRORS.has(code)) return TRANSIENT_BACKOFF_MS;
      return undefined;
    },
  };
}

/** API Gateway's answer for a connection that is gone: 410 whether or not the error type made it through. */
export function isGoneAnswer(status: number | undefined, errorType: unknown): boolean {
  return status === 410 || errorType === 'GoneException';
}
