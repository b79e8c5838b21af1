import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from '../helpers/ws-client.js';
import { ask, echo, openProbe, startTarget, type Target } from './target.js';

describe('conformance: route selection and route responses', () => {
  let probe: Target;
  let strict: Target;
  beforeAll(async () => {
    [probe, strict] = await Promise.all([startTarget('probe'), startTarget('strict')]);
  });
  afterAll(() => Promise.all([probe?.close(), strict?.close()]));

  it.each([
    ['an unknown action', { action: 'nope' }],
    ['no action', { data: 1 }],
    ['a non-string action', { action: 42 }],
    ['an object action', { action: { route: 'echo' } }],
    ['a reserved route key', { action: '$connect' }],
    ['non-JSON', 'plain text'],
  ])('%s goes to $default', async (_name, frame) => {
    const client = await openProbe(probe);
    const answer = await ask(client, frame);
    expect(answer.event.requestContext.routeKey).toBe('$default');
    await client.close();
  });

  it('routes on a nested path of the selection expression', async () => {
    const client = await connectClient(strict.wsUrl);
    expect(await ask(client, { meta: { route: 'ping' } })).toEqual({ pong: 'ping' });
    await client.close();
  });

  it.each([
    ['no match', { meta: { route: 'pong' } }],
    ['non-JSON', 'ping'],
    ['the key at the wrong depth', { route: 'ping' }],
  ])("without $default, %s gets API Gateway's Forbidden frame", async (_name, frame) => {
    const client = await connectClient(strict.wsUrl);
    const raw = new Promise<string>((resolve) => client.socket.once('message', (data) => resolve(data.toString())));
    client.send(frame);
    const text = await raw;
    expect(text).toMatch(/^\{"message": "Forbidden", "connectionId":"[^"]+", "requestId":"[^"]+"\}$/);
    await client.next();
    expect(await ask(client, { meta: { route: 'ping' } })).toEqual({ pong: 'ping' });
    await client.close();
  });

  it("without a route response, the handler's returned body is not sent back", async () => {
    const client = await openProbe(probe);
    client.send({ action: 'silent' });
    const next = await echo(client, { tag: 'after silent' });
    expect(next.tag).toBe('after silent');
    expect(client.pending()).toEqual([]);
    await client.close();
  });
});
