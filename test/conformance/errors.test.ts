import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echo, openProbe, startTarget, type Target } from './target.js';

const INTERNAL_ERROR = /^\{"message": "Internal server error", "connectionId":"([^"]+)", "requestId":"[^"]+"\}$/;

describe('conformance: handler errors', () => {
  let target: Target;
  beforeAll(async () => {
    target = await startTarget('probe');
  });
  afterAll(() => target?.close());

  it.each([
    ['throws', 'throw'],
    ['times out', 'timeout'],
    ['never yields (busy loop past its timeout)', 'spin'],
  ])('a route handler that %s: the caller gets Internal server error and stays connected', async (_name, mode) => {
    const client = await openProbe(target);
    const id = (await echo(client)).event.requestContext.connectionId;
    const raw = new Promise<string>((resolve) => client.socket.once('message', (data) => resolve(data.toString())));

    client.send({ action: 'fail', mode });
    const text = await raw;

    expect(text).toMatch(INTERNAL_ERROR);
    expect(INTERNAL_ERROR.exec(text)![1]).toBe(id);
    await client.next();
    expect((await echo(client, { tag: 'still open' })).tag).toBe('still open');
    await client.close();
  });

  it('$connect that throws fails the handshake with 502', async () => {
    await expect(openProbe(target, { query: { connectThrow: '1' } })).rejects.toMatchObject({ statusCode: 502 });
  });

  it.each([['401'], ['403'], ['418'], ['500']])(
    '$connect returning statusCode %s refuses the handshake with it',
    async (status) => {
      await expect(openProbe(target, { query: { connectStatus: status } })).rejects.toMatchObject({
        statusCode: Number(status),
      });
    },
  );

  it('$connect returning 201 completes the handshake', async () => {
    const client = await openProbe(target, { query: { connectStatus: '201' } });
    expect((await echo(client)).event.requestContext.routeKey).toBe('echo');
    await client.close();
  });
});
