import { ConnectionGoneError } from '../core/index.js';
import { type RetryPolicy, THROTTLING_BACKOFF_MS, TRANSIENT_BACKOFF_MS, withRetries } from './retry.js';

/**
 * When a DeleteConnection may be sent again. Unlike a PostToConnection (deliveryRetries), closing
 * twice harms nothing: a second DELETE of a closed connection is a 410. So it is retried after
 * throttling (429), a 5xx and a transport error (refused, reset, timed out), whether or not the
 * request may have arrived; never after another 4xx, which would answer the same again.
 */
export function closeRetries(maxAttempts = 3): RetryPolicy {
  return {
    maxAttempts,
    backoffBaseMs(error) {
      if (error instanceof ConnectionGoneError) return undefined;
      const { $metadata, code } = (error ?? {}) as { $metadata?: { httpStatusCode?: number }; code?: unknown };
      const status = $metadata?.httpStatusCode;
      if (status === 429) return THROTTLING_BACKOFF_MS;
      if (status !== undefined) return status >= 500 ? TRANSIENT_BACKOFF_MS : undefined;
      // Node's and undici's network errors carry a string code (ECONNRESET, UND_ERR_SOCKET, ...).
      return typeof code === 'string' ? TRANSIENT_BACKOFF_MS : undefined;
    },
  };
}

/**
 * Runs a DeleteConnection attempt (which throws ConnectionGoneError on a 410) under closeRetries.
 * A 410 on a later attempt counts as closed: an earlier attempt may have been the one that closed
 * it, and the connection is closed either way. Only a first-attempt 410 means it was already gone.
 */
export async function closeConnectionWithRetries(attempt: () => Promise<void>, maxAttempts?: number): Promise<void> {
  let attempts = 0;
  try {
    await withRetries(() => {
      attempts++;
      return attempt();
    }, closeRetries(maxAttempts));
  } catch (error) {
    if (error instanceof ConnectionGoneError && attempts > 1) return;
    throw error;
  }
}
