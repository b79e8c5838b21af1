import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevServer } from '../../src/local/dev-server.js';
import { connectUser, mintToken, startChannelServer, unique, unsignedToken, withToken } from '../helpers/dev-server.js';
import { handshakeStatus } from '../helpers/ws-client.js';

const forbidden = (id: string) => ({ type: 'error', id, code: 'forbidden', message: expect.any(String) });

describe('capabilities and personal channels', () => {
  let server: DevServer;

  beforeAll(async () => {
    server = await startChannelServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('a token that may only subscribe to chat:* is forbidden to publish there, and to subscribe to news', async () => {
    const channel = unique('chat:readonly-');
    const reader = await connectUser(server, { sub: unique('reader-'), channels: { 'chat:*': ['subscribe'] } });
    const other = await connectUser(server, { sub: unique('other-') });
    await other.request({ action: 'subscribe', channel });

    expect(await reader.request({ action: 'subscribe', channel, id: 's' })).toEqual({
      type: 'subscribed',
      id: 's',
      channel,
      position: { offset: expect.any(Number), epoch: expect.any(String) },
    });
    expect(await reader.request({ action: 'publish', channel, data: 'no', id: 'p' })).toEqual(forbidden('p'));
    expect(await reader.request({ action: 'subscribe', channel: 'news', id: 'n' })).toEqual(forbidden('n'));
    // sendmessage is a publish on the default channel, which this token does not list.
    reader.send({ action: 'sendmessage', data: 'no' });
    expect(await reader.next()).toEqual({ type: 'error', code: 'forbidden', message: expect.any(String) });

    // What it may do still works after the denials: it receives what others publish.
    const ack = await other.request({ action: 'publish', channel, data: 'yes' });
    expect(await reader.next()).toMatchObject({ type: 'message', channel, id: ack.messageId, data: 'yes' });
    // chat has join/leave: the reader's subscribe was announced to the member before it.
    expect(await other.next()).toMatchObject({ type: 'join', channel, member: { connectionId: reader.connectionId } });
    expect(await other.next()).toMatchObject({ type: 'message', id: ack.messageId });
    expect(await other.settle(300)).toEqual([]);
    await Promise.all([reader.close(), other.close()]);
  });

  it('a token with news: [subscribe] may subscribe to news and nothing else', async () => {
    const reader = await connectUser(server, { sub: unique('news-'), channels: { news: ['subscribe'] } });
    expect(await reader.request({ action: 'subscribe', channel: 'news', id: 'n' })).toMatchObject({
      type: 'subscribed',
    });
    expect(await reader.request({ action: 'subscribe', channel: 'newsroom', id: 'r' })).toEqual(forbidden('r'));
    expect(await reader.request({ action: 'subscribe', channel: unique('chat:'), id: 'c' })).toEqual(forbidden('c'));
    await reader.close();
  });

  it("alice may subscribe to her own personal channel and not to bob's", async () => {
    const [alice, bob] = [unique('alice-'), unique('bob-')];
    const client = await connectUser(server, { sub: alice });
    const bobClient = await connectUser(server, { sub: bob });

    expect(await client.request({ action: 'subscribe', channel: `user:${alice}`, id: 'own' })).toEqual({
      type: 'subscribed',
      id: 'own',
      channel: `user:${alice}`,
      position: { offset: expect.any(Number), epoch: expect.any(String) },
    });
    expect(await client.request({ action: 'subscribe', channel: `user:${bob}`, id: 'other' })).toEqual(
      forbidden('other'),
    );
    expect(await client.request({ action: 'publish', channel: `user:${bob}`, data: 'psst', id: 'pub' })).toEqual(
      forbidden('pub'),
    );
    expect(await bobClient.settle(300)).toEqual([]);
    await Promise.all([client.close(), bobClient.close()]);
  });

  it('even a token granting * cannot open another user’s personal channel', async () => {
    const client = await connectUser(server, { sub: unique('greedy-'), channels: { '*': ['subscribe', 'publish'] } });
    expect(await client.request({ action: 'subscribe', channel: 'user:someone-else', id: 'x' })).toEqual(
      forbidden('x'),
    );
    await client.close();
  });
});

describe('the subscription limit', () => {
  const MAX = 5;
  let server: DevServer;

  beforeAll(async () => {
    // As a deploy would set it: --param="maxSubscriptions=5".
    server = await startChannelServer({}, [`maxSubscriptions=${MAX}`]);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('the message function runs with MAX_SUBSCRIPTIONS from the maxSubscriptions param', () => {
    expect(server.service.functions.message!.environment.MAX_SUBSCRIPTIONS).toBe(String(MAX));
  });

  it('past MAX_SUBSCRIPTIONS a subscribe gets too_many_subscriptions; re-subscribing and unsubscribing still work', async () => {
    const client = await connectUser(server, { sub: unique('collector-') });
    const channels = Array.from({ length: MAX + 2 }, (_, i) => `chat:limit-${i}`);

    const replies = [];
    for (const channel of channels) replies.push(await client.request({ action: 'subscribe', channel }));
    const accepted = replies.filter((reply) => reply.type === 'subscribed').length;
    const refused = replies.slice(accepted);

    // default and the personal channel, joined at $connect, count towards the limit.
    expect(accepted).toBe(MAX - 2);
    expect(refused).toHaveLength(4);
    for (const reply of refused) {
      expect(reply).toEqual({
        type: 'error',
        id: reply.id,
        code: 'too_many_subscriptions',
        message: expect.any(String),
      });
    }

    // At the limit, a channel already held is fine, and unsubscribing makes room for one more.
    expect(await client.request({ action: 'subscribe', channel: channels[0]! })).toMatchObject({ type: 'subscribed' });
    const firstRefused = channels[accepted]!;
    expect(await client.request({ action: 'unsubscribe', channel: channels[0]! })).toMatchObject({
      type: 'unsubscribed',
    });
    expect(await client.request({ action: 'subscribe', channel: firstRefused })).toMatchObject({
      type: 'subscribed',
      channel: firstRefused,
    });
    expect(await client.request({ action: 'subscribe', channel: channels[0]! })).toMatchObject({
      code: 'too_many_subscriptions',
    });
    await client.close();
  });

  it('the limit is per connection: another connection of the same user starts from zero', async () => {
    const sub = unique('twin-');
    const first = await connectUser(server, { sub });
    for (let i = 0; i < MAX; i++) await first.request({ action: 'subscribe', channel: `chat:per-${i}` });
    const second = await connectUser(server, { sub });
    expect(await second.request({ action: 'subscribe', channel: 'chat:per-0' })).toMatchObject({
      type: 'subscribed',
    });
    await Promise.all([first.close(), second.close()]);
  });
});

describe('tokens at the handshake', () => {
  let server: DevServer;

  beforeAll(async () => {
    server = await startChannelServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('a valid token connects (so the refusals below are about the token)', async () => {
    expect(await handshakeStatus(withToken(server.wsUrl, await mintToken({ sub: 'alice' })))).toBe('connected');
  });

  it.each([
    ['a bad signature', () => mintToken({ sub: 'alice' }, { secret: 'another-secret-also-at-least-32-bytes!' })],
    ['alg none', async () => unsignedToken({ sub: 'alice' })],
    ['an expired token', () => mintToken({ sub: 'alice' }, { expiresIn: Math.floor(Date.now() / 1000) - 600 })],
    ['a malformed token', async () => 'not-a-jwt'],
    ['a truncated token', async () => (await mintToken({ sub: 'alice' })).slice(0, -10)],
  ])('%s is refused with 401 even though anonymous connections are allowed', async (_name, token) => {
    expect(await handshakeStatus(withToken(server.wsUrl, await token()))).toBe(401);
    // The server goes on: the next good handshake connects.
    expect(await handshakeStatus(withToken(server.wsUrl, await mintToken({ sub: 'alice' })))).toBe('connected');
  });

  it('no token at all connects anonymously under npm run dev', async () => {
    expect(await handshakeStatus(server.wsUrl)).toBe('connected');
  });
});
