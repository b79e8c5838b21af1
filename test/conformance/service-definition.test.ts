import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echo, openProbe, startTarget, type Target } from './target.js';

describe('conformance: serverless.yml is the source', () => {
  let target: Target;
  beforeAll(async () => {
    target = await startTarget('probe');
  });
  afterAll(() => target?.close());

  it('custom routes run the handler serverless.yml names for them', async () => {
    const client = await openProbe(target);
    const answer = await echo(client);
    expect(answer.event.requestContext.routeKey).toBe('echo');
    expect(answer.context.functionName).toBe(`probe-${target.stage}-echo`);
    await client.close();
  });

  it('environment: provider and function settings, variables and CloudFormation references resolved', async () => {
    const client = await openProbe(target);
    const { env } = await echo(client);
    expect(env).toEqual({
      PROBE_TABLE: `probe-${target.stage}-table`,
      PROBE_STAGE: target.stage,
      PROBE_GREETING: `hello-${target.stage}`,
      PROBE_FUNCTION_ONLY: 'echo-only',
    });
    await client.close();
  });

  it('each function sees only its own function-level environment', async () => {
    const client = await openProbe(target);
    client.send('not json, so $default (the fallback function) answers');
    const answer = await client.next();
    expect(answer.context.functionName).toBe(`probe-${target.stage}-fallback`);
    expect(answer.env.PROBE_FUNCTION_ONLY).toBeUndefined();
    expect(answer.env.PROBE_STAGE).toBe(target.stage);
    await client.close();
  });

  it("function timeouts: getRemainingTimeInMillis() counts down from the function's own timeout", async () => {
    const client = await openProbe(target);
    const { context } = await echo(client, { sleepMs: 300 });
    // echo has timeout: 2 (seconds); 300 ms of it were slept away.
    expect(context.remainingMs).toBeGreaterThan(0);
    expect(context.remainingMs).toBeLessThanOrEqual(1_700);
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    await client.close();
  });
});
