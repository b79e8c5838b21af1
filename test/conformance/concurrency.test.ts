import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestClient } from '../helpers/ws-client.js';
import { echo, openProbe, startTarget, type Target } from './target.js';

/**
 * Until two echoes of 500 ms ran side by side (both done within 900 ms): two warm sandboxes, so the fast
 * echo below measures no cold start. A loaded machine can take seconds to start a sandbox, and a pair
 * that does not overlap shows the second one was still starting (which made the order flaky).
 */
async function warmTwoSandboxes(first: TestClient, second: TestClient): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const started = Date.now();
    await Promise.all([echo(first, { sleepMs: 500 }), echo(second, { sleepMs: 500 })]);
    if (Date.now() - started < 900) return;
  }
  throw new Error('two echoes never ran side by side: the emulator runs one sandbox at a time');
}

describe('conformance: messages are handled concurrently, as Lambda would', () => {
  let target: Target;
  beforeAll(async () => {
    target = await startTarget('probe');
  });
  afterAll(() => target?.close());

  it.each([
    ['waits (sleepMs)', { sleepMs: 1_500 }],
    ['burns CPU (spinMs)', { spinMs: 1_500 }],
  ])('a handler that %s on one connection does not stall another', async (_name, slow) => {
    const slowClient = await openProbe(target);
    const fastClient = await openProbe(target);
    await warmTwoSandboxes(slowClient, fastClient);
    const order: string[] = [];

    const slowAnswer = echo(slowClient, { ...slow, tag: 'slow' }).then((a) => order.push(a.tag));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const fastAnswer = echo(fastClient, { tag: 'fast' }).then((a) => order.push(a.tag));
    await Promise.all([slowAnswer, fastAnswer]);

    expect(order).toEqual(['fast', 'slow']);
    await Promise.all([slowClient.close(), fastClient.close()]);
  });

  it('two messages from one connection run concurrently too', async () => {
    const client = await openProbe(target);
    client.send({ action: 'echo', sleepMs: 1_000, tag: 'first sent' });
    client.send({ action: 'echo', tag: 'second sent' });

    const first = await client.next(10_000);
    const second = await client.next(10_000);

    expect([first.tag, second.tag]).toEqual(['second sent', 'first sent']);
    await client.close();
  });
});
