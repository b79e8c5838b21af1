import { setTimeout as sleep } from 'node:timers/promises';
/**
 * The one retry loop of src/aws: the senders (throttling, requests that never left) and the
 * store (DynamoDB's unprocessed batch items) use it. The SDK clients retry their own calls.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** The backoff base (ms) when `error` is worth another attempt; undefined gives up at once. */
  backoffBaseMs(error: unknown): number | undefined;
}

/** Backoff bases as the SDK's standard retry strategy: longer after throttling. */
export const THROTTLING_BACKOFF_MS = 500;
export const TRANSIENT_BACKOFF_MS = 100;
/** The ceiling of any one wait, as the SDK's. */
const MAX_BACKOFF_MS = 20_000;

/** Runs `attempt` until it resolves, the policy gives up, or the attempts run out: then the last error. */
export function withRetries<T>(attempt: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  return attemptFrom(1, attempt, policy);
}

function attemptFrom<T>(attempts: number, attempt: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  // No async frame around the first attempt: the fan-out makes one call per recipient.
  return attempt().catch(async (error: unknown) => {
    const baseMs = attempts < policy.maxAttempts ? policy.backoffBaseMs(error) : undefined;
    if (baseMs === undefined) throw error;
    await sleep(backoffMs(attempts, baseMs));
    return attemptFrom(attempts + 1, attempt, policy);
  });
}

/** Full jitter, exponential from `baseMs` (AWS's recommendation and the SDK's): after attempt n, up to base·2ⁿ. */
export function backoffMs(attempt: number, baseMs: number): number {
  return Math.random() * Math.min(MAX_BACKOFF_MS, baseMs * 2 ** attempt);
}
