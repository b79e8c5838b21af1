import { afterEach, describe, expect, it, vi } from 'vitest';
import { backoffMs, withRetries } from '../../src/aws/retry.js';

/** An operation failing with `errors` in turn, then answering 'done'. */
function flaky(...errors: Error[]) {
  const operation = vi.fn(async () => {
    const error = errors.shift();
    if (error) throw error;
    return 'done';
  });
  return operation;
}

describe('withRetries, the one retry loop', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('returns the first answer without waiting', async () => {
    const operation = flaky();
    await expect(withRetries(operation, { maxAttempts: 3, backoffBaseMs: () => 0 })).resolves.toBe('done');
    expect(operation).toHaveBeenCalledTimes(1);
  });

  it('tries again while the policy names a backoff, then answers', async () => {
    const operation = flaky(new Error('busy'), new Error('busy'));
    await expect(withRetries(operation, { maxAttempts: 3, backoffBaseMs: () => 0 })).resolves.toBe('done');
    expect(operation).toHaveBeenCalledTimes(3);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const operation = flaky(new Error('first'), new Error('second'), new Error('third'));
    await expect(withRetries(operation, { maxAttempts: 2, backoffBaseMs: () => 0 })).rejects.toThrow('second');
    expect(operation).toHaveBeenCalledTimes(2);
  });

  it('gives up at once on an error the policy does not retry, and tells it which error came', async () => {
    const fatal = new Error('fatal');
    const backoffBaseMs = vi.fn((error: unknown) => (error === fatal ? undefined : 0));
    const operation = flaky(new Error('busy'), fatal);

    await expect(withRetries(operation, { maxAttempts: 5, backoffBaseMs })).rejects.toBe(fatal);
    expect(operation).toHaveBeenCalledTimes(2);
    expect(backoffBaseMs.mock.calls.map(([error]) => (error as Error).message)).toEqual(['busy', 'fatal']);
  });

  it('waits with full jitter: anywhere below base·2^attempt, capped at 20 s', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    expect([1, 2, 3].map((attempt) => backoffMs(attempt, 100))).toEqual([100, 200, 400]);
    expect(backoffMs(20, 100)).toBe(10_000);
    vi.spyOn(Math, 'random').mockReturnValue(0);
    expect(backoffMs(3, 100)).toBe(0);
  });
});
