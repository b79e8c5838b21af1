import { describe, expect, it, vi } from 'vitest';
import { invokeHandler } from '../../src/local/handler-invocation.mjs';
import { sandboxEnvironment } from '../../src/local/sandbox-env.js';

describe('one invocation, as the Lambda runtime runs it', () => {
  it('a handler that calls back synchronously leaves no idle watch running', async () => {
    // The watch is unref'd, so it keeps no process alive, but a leaked one would poll every 10 ms forever.
    const started = vi.spyOn(globalThis, 'setInterval');
    try {
      for (let i = 0; i < 5; i++) {
        expect(await invokeHandler((_event, context) => (context.succeed as (r: unknown) => void)(i), {}, {})).toBe(i);
        expect(await invokeHandler((_event, _context, callback) => callback(null, i), {}, {})).toBe(i);
      }
      expect(started).not.toHaveBeenCalled();
    } finally {
      started.mockRestore();
    }
  });

  it('a handler that throws nothing (throw undefined) fails, it does not succeed', async () => {
    await expect(
      invokeHandler(
        () => {
          throw undefined;
        },
        {},
        {},
      ),
    ).rejects.toThrow(/handler threw undefined/);
  });
});

describe('--aws-credentials inherit', () => {
  const options = {
    region: 'us-east-1',
    credentials: 'inherit' as const,
    dynamodbEndpoint: 'http://127.0.0.1:1',
    managementUrl: 'http://127.0.0.1:2',
  };

  it('passes a developer chain without keys in the environment (a default profile, SSO) as it is', () => {
    const env = sandboxEnvironment({ HOME: '/home/dev' }, options);
    expect(env.AWS_ACCESS_KEY_ID).toBeUndefined();
    expect(env.AWS_SHARED_CREDENTIALS_FILE).toBeUndefined();
  });

  it('passes container credentials as they are', () => {
    const env = sandboxEnvironment({ AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.2/creds' }, options);
    expect(env.AWS_CONTAINER_CREDENTIALS_FULL_URI).toBe('http://169.254.170.2/creds');
    expect(env.AWS_ACCESS_KEY_ID).toBeUndefined();
  });
});
