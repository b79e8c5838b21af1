import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echo, openProbe, startTarget, type Target } from './target.js';

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
    // Two at once, each waiting a moment: two warm sandboxes, so the fast one measures no cold start
    // (a loaded machine can take over a second to start one, which made this order flaky).
    await Promise.all([echo(slowClient, { sleepMs: 300 }), echo(fastClient, { sleepMs: 300 })]);
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
