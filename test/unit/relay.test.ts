import { describe, expect, it } from 'vitest';
import {
  ALL_CAPABILITIES,
  ConnectionGoneError,
  createConnections,
  createRelay,
  DEFAULT_ANONYMOUS_CAPABILITIES,
  DEFAULT_CHANNEL,
  DEFAULT_NAMESPACE_OPTIONS,
  type Identity,
  InvalidMessageError,
  type MessageContext,
  STREAM_MIN_TTL_SECONDS,
  streamTtlSeconds,
} from '../../src/core/index.js';
import { FakeSender, FakeStore, recordingLogger } from '../helpers/fakes.js';

const NOW = 1_700_000_000_000;
/** Connected long enough ago that a Gone answer means gone (not still inside $connect). */
const CONNECTED_AT = NOW - 60_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const alice: Identity = { userId: 'alice', info: { name: 'Alice' }, capabilities: ALL_CAPABILITIES };
const bob: Identity = { userId: 'bob', info: null, capabilities: ALL_CAPABILITIES };
const anonymous: Identity = { userId: null, info: null, capabilities: DEFAULT_ANONYMOUS_CAPABILITIES };
/** May read chat rooms, nothing else. */
const reader: Identity = { userId: 'rita', info: null, capabilities: { 'chat:*': ['subscribe'] } };

function setUp({ maxSubscriptions = 4 } = {}) {
  const store = new FakeStore(2, () => Math.floor(NOW / 1000));
  const sender = new FakeSender();
  const logger = recordingLogger();
  const relay = createRelay({
    store,
    sender,
    clock: { now: () => NOW },
    logger,
    namespaces: {
      chat: { ...DEFAULT_NAMESPACE_OPTIONS, clientPublish: true },
      news: { ...DEFAULT_NAMESPACE_OPTIONS, clientPublish: false },
    },
    maxSubscriptions,
  });
  /** Connects `connectionId` as `identity` and returns the context its frames arrive with. */
  const connect = async (connectionId: string, identity: Identity = alice): Promise<MessageContext> => {
    await relay.connect({ connectionId, sourceIp: '203.0.113.9', connectedAt: CONNECTED_AT, identity });
    return { connectionId, connectedAt: CONNECTED_AT, identity };
  };
  const send = (context: MessageContext, frame: unknown) =>
    relay.message(context, typeof frame === 'string' ? frame : JSON.stringify(frame));
  return { store, sender, relay, logger, connect, send };
}

describe('connect and disconnect', () => {
  it("records who connected, with a TTL beyond API Gateway's 2 hours, in the default and personal channels", async () => {
    const { store, connect } = setUp();

    await connect('a', alice);

    const record = store.connections.get('a')!;
    expect(record).toMatchObject({
      connectionId: 'a',
      connectedAt: CONNECTED_AT,
      sourceIp: '203.0.113.9',
      userId: 'alice',
      info: { name: 'Alice' },
    });
    expect(record.expiresAt).toBeGreaterThan(CONNECTED_AT / 1000 + 2 * 3600);
    expect([...record.channels].sort()).toEqual([DEFAULT_CHANNEL, 'user:alice']);
    expect(store.membersOf(DEFAULT_CHANNEL)).toEqual(['a']);
    expect(store.membersOf('user:alice')).toEqual(['a']);
    // Memberships carry the user for presence, and lapse with the connection.
    expect(store.channels.get('user:alice')!.get('a')).toEqual({
      connectionId: 'a',
      connectedAt: CONNECTED_AT,
      userId: 'alice',
      info: { name: 'Alice' },
      expiresAt: record.expiresAt,
    });
  });

  it('an anonymous connection, or a user whose id cannot name a channel, joins the default channel only', async () => {
    const { store, connect } = setUp();

    await connect('anon', anonymous);
    await connect('auth0', { ...alice, userId: 'auth0|123' });

    expect([...store.connections.get('anon')!.channels]).toEqual([DEFAULT_CHANNEL]);
    expect(store.connections.get('anon')).toMatchObject({ userId: null, info: null });
    expect([...store.connections.get('auth0')!.channels]).toEqual([DEFAULT_CHANNEL]);
    expect(store.membersOf(DEFAULT_CHANNEL)).toEqual(['anon', 'auth0']);
  });

  it('disconnect removes every membership: automatic and subscribed', async () => {
    const { store, relay, connect, send } = setUp();
    const a = await connect('a');
    await connect('b', bob);
    await send(a, { action: 'subscribe', channel: 'chat:lobby' });

    await relay.disconnect('a');

    expect(store.connections.has('a')).toBe(false);
    for (const channel of [DEFAULT_CHANNEL, 'user:alice', 'chat:lobby'])
      expect(store.membersOf(channel)).not.toContain('a');
    expect(store.membersOf(DEFAULT_CHANNEL)).toEqual(['b']);
  });
});

describe('subscribe and unsubscribe', () => {
  it('subscribe answers subscribed with the request id and adds the membership; repeating it is fine', async () => {
    const { store, sender, connect, send } = setUp();
    const a = await connect('a');

    expect(await send(a, { action: 'subscribe', channel: 'chat:lobby', id: '1' })).toEqual({
      kind: 'subscribed',
      channel: 'chat:lobby',
      replayed: 0,
    });
    await send(a, { action: 'subscribe', channel: 'chat:lobby', id: '2' });

    expect(sender.framesFor('a')).toEqual([
      { type: 'subscribed', id: '1', channel: 'chat:lobby', position: { offset: 0, epoch: 'epoch-1' } },
      { type: 'subscribed', id: '2', channel: 'chat:lobby', position: { offset: 0, epoch: 'epoch-1' } },
    ]);
    expect(store.membersOf('chat:lobby')).toEqual(['a']);
    expect(store.channels.get('chat:lobby')!.get('a')).toMatchObject({ userId: 'alice', info: { name: 'Alice' } });
  });

  it.each([
    ['capabilities without subscribe there', reader, 'news', /capabilities do not allow subscribe on "news"/],
    ['an anonymous connection outside the default channel', anonymous, 'chat:lobby', /do not allow subscribe/],
    ["another user's personal channel", alice, 'user:bob', /"user:bob" is another user's personal channel/],
  ])('refuses %s with forbidden, carrying the id, and subscribes nothing', async (_name, identity, channel, why) => {
    const { store, sender, connect, send } = setUp();
    const c = await connect('c', identity);

    expect(await send(c, { action: 'subscribe', channel, id: 'x' })).toEqual({ kind: 'rejected', code: 'forbidden' });

    expect(sender.framesFor('c')).toEqual([
      { type: 'error', id: 'x', code: 'forbidden', message: expect.stringMatching(why) },
    ]);
    expect(store.membersOf(channel)).toEqual([]);
  });

  it('a user may subscribe to their own personal channel whatever their capabilities', async () => {
    const { sender, connect, send } = setUp();
    const r = await connect('r', reader);

    await send(r, { action: 'subscribe', channel: 'user:rita', id: '1' });

    expect(sender.framesFor('r')).toEqual([
      { type: 'subscribed', id: '1', channel: 'user:rita', position: { offset: 0, epoch: expect.any(String) } },
    ]);
  });

  it('refuses a subscription beyond MAX_SUBSCRIPTIONS (the automatic ones count), yet a repeat is fine', async () => {
    const { store, sender, connect, send } = setUp({ maxSubscriptions: 4 });
    const a = await connect('a');
    await send(a, { action: 'subscribe', channel: 'chat:1' });
    await send(a, { action: 'subscribe', channel: 'chat:2' });

    expect(await send(a, { action: 'subscribe', channel: 'chat:3', id: 'over' })).toEqual({
      kind: 'rejected',
      code: 'too_many_subscriptions',
    });
    await send(a, { action: 'subscribe', channel: 'chat:2', id: 'again' });

    expect(sender.framesFor('a').slice(2)).toEqual([
      { type: 'error', id: 'over', code: 'too_many_subscriptions', message: expect.stringMatching(/at most 4/) },
      { type: 'subscribed', id: 'again', channel: 'chat:2', position: { offset: 0, epoch: expect.any(String) } },
    ]);
    expect(store.membersOf('chat:3')).toEqual([]);
  });

  it('unsubscribe ends the membership; a repeat, or a channel never subscribed, is answered the same', async () => {
    const { store, sender, connect, send } = setUp();
    const a = await connect('a');
    await send(a, { action: 'subscribe', channel: 'chat:lobby' });

    for (const [channel, id] of [
      ['chat:lobby', '1'],
      ['chat:lobby', '2'],
      ['chat:never', '3'],
    ]) {
      expect(await send(a, { action: 'unsubscribe', channel, id })).toEqual({ kind: 'unsubscribed', channel });
    }

    expect(sender.framesFor('a').slice(1)).toEqual([
      { type: 'unsubscribed', id: '1', channel: 'chat:lobby' },
      { type: 'unsubscribed', id: '2', channel: 'chat:lobby' },
      { type: 'unsubscribed', id: '3', channel: 'chat:never' },
    ]);
    expect(store.membersOf('chat:lobby')).toEqual([]);
    expect([...store.connections.get('a')!.channels].sort()).toEqual([DEFAULT_CHANNEL, 'user:alice']);
  });

  it("refuses to leave the user's own personal channel: the server reaches the user through it", async () => {
    const { store, sender, connect, send } = setUp();
    const a = await connect('a');

    await send(a, { action: 'unsubscribe', channel: 'user:alice', id: '1' });

    expect(sender.framesFor('a')).toEqual([
      { type: 'error', id: '1', code: 'forbidden', message: expect.stringContaining('personal channel') },
    ]);
    expect(store.membersOf('user:alice')).toEqual(['a']);
  });

  it('a subscribe from a connection without a record closes it (it could never be reached) and replies nothing', async () => {
    const { sender, logger, send } = setUp();
    const ghost = { connectionId: 'ghost', connectedAt: CONNECTED_AT, identity: alice };

    expect(await send(ghost, { action: 'subscribe', channel: 'chat:lobby', id: '1' })).toEqual({ kind: 'closed' });

    expect(sender.closed).toEqual(['ghost']);
    expect(sender.framesFor('ghost')).toEqual([]);
    expect(logger.lines.map((line) => line.message)).toEqual([
      'subscribe from a connection without a record; closing it',
    ]);
    // Already closed at the gateway: the same, without an error.
    expect(await send(ghost, { action: 'subscribe', channel: 'chat:lobby' })).toEqual({ kind: 'closed' });
  });
});

describe('publish', () => {
  it("acknowledges once accepted, then delivers to the channel's subscribers only, the publisher included", async () => {
    const { store, sender, connect, send } = setUp();
    const a = await connect('a');
    const b = await connect('b', bob);
    await connect('outsider', bob);
    for (const context of [a, b]) await send(context, { action: 'subscribe', channel: 'chat:lobby' });
    sender.sent.length = 0;

    const outcome = await send(a, { action: 'publish', channel: 'chat:lobby', data: { text: 'hi' }, id: '3' });

    const [ack, message] = sender.framesFor('a');
    expect(ack).toEqual({
      type: 'ack',
      id: '3',
      channel: 'chat:lobby',
      messageId: expect.stringMatching(UUID),
      offset: 1,
    });
    expect(message).toEqual({
      type: 'message',
      channel: 'chat:lobby',
      id: ack.messageId,
      data: { text: 'hi' },
      from: 'a',
      user: { id: 'alice', info: { name: 'Alice' } },
      ts: NOW,
      offset: 1,
      epoch: store.streams.get('chat:lobby')!.epoch,
    });
    // The ack went out before any delivery.
    expect(sender.sent[0]).toMatchObject({ connectionId: 'a', payload: expect.stringContaining('"ack"') });
    expect(sender.framesFor('b')).toEqual([message]);
    expect(sender.framesFor('outsider')).toEqual([]);
    expect(outcome).toEqual({
      kind: 'published',
      channel: 'chat:lobby',
      result: { messageId: ack.messageId, offset: 1, delivered: 2, gone: 0, failed: 0 },
    });
  });

  it('a publisher need not be subscribed (it gets the ack only); an anonymous publisher has user null', async () => {
    const { sender, connect, send } = setUp();
    const anon = await connect('anon', anonymous);
    const b = await connect('b', bob);
    await send(b, { action: 'subscribe', channel: 'chat:lobby' });
    await send(b, { action: 'unsubscribe', channel: DEFAULT_CHANNEL });
    sender.sent.length = 0;

    await send(anon, { action: 'unsubscribe', channel: DEFAULT_CHANNEL });
    await send(anon, { action: 'publish', channel: DEFAULT_CHANNEL, data: 1 });
    await send(b, { action: 'publish', channel: 'chat:lobby', data: 2 });

    expect(sender.framesFor('anon').map((frame) => frame.type)).toEqual(['unsubscribed', 'ack']);
    expect(sender.framesFor('b')).toEqual([
      expect.objectContaining({ type: 'ack' }),
      expect.objectContaining({ data: 2, user: { id: 'bob', info: null } }),
    ]);
  });

  it.each([
    ['capabilities without publish there', reader, 'chat:lobby', /do not allow publish on "chat:lobby"/],
    [
      'a namespace where only the server API publishes',
      alice,
      'news:world',
      /only the server API may publish to "news:world"/,
    ],
    ["another user's personal channel", alice, 'user:bob', /another user's personal channel/],
  ])('refuses %s with forbidden: no ack, no delivery', async (_name, identity, channel, why) => {
    const { sender, connect, send } = setUp();
    const p = await connect('p', identity);
    const b = await connect('b', bob);
    await send(b, { action: 'subscribe', channel });
    sender.sent.length = 0;

    expect(await send(p, { action: 'publish', channel, data: 1, id: '9' })).toEqual({
      kind: 'rejected',
      code: 'forbidden',
    });

    expect(sender.framesFor('p')).toEqual([
      { type: 'error', id: '9', code: 'forbidden', message: expect.stringMatching(why) },
    ]);
    expect(sender.framesFor('b')).toEqual([]);
  });

  it('a publication whose frame would exceed 128 KB is refused before any ack or delivery', async () => {
    const { sender, connect, send } = setUp();
    const a = await connect('a');
    const b = await connect('b', bob);
    for (const context of [a, b]) await send(context, { action: 'subscribe', channel: 'chat:big' });
    sender.sent.length = 0;

    const outcome = await send(a, { action: 'publish', channel: 'chat:big', data: 'x'.repeat(128 * 1024), id: 'big' });

    expect(outcome).toEqual({ kind: 'rejected', code: 'message_too_large' });
    expect(sender.framesFor('a')).toEqual([
      { type: 'error', id: 'big', code: 'message_too_large', message: expect.stringMatching(/limit is 130048/) },
    ]);
    expect(sender.framesFor('b')).toEqual([]);
  });

  it('a refused publication takes no offset; the counter lives max(historyTtlSeconds, 24 h)', async () => {
    const { store, connect, send, relay } = setUp();
    const a = await connect('a');
    await send(a, { action: 'publish', channel: 'chat:gap', data: 'x'.repeat(128 * 1024) });

    expect(await send(a, { action: 'publish', channel: 'chat:gap', data: 'fits' })).toMatchObject({
      result: { offset: 1 },
    });
    expect(store.streams.get('chat:gap')!.expiresAt).toBe(Math.floor(NOW / 1000) + STREAM_MIN_TTL_SECONDS);
    expect(streamTtlSeconds('chat:x', { chat: { ...DEFAULT_NAMESPACE_OPTIONS, historyTtlSeconds: 7 * 86_400 } })).toBe(
      7 * 86_400,
    );
    expect((await relay.publish('news:gap', 1)).offset).toBe(1);
  });

  it('delivery goes on when the publisher hung up before its ack; the publisher is forgotten', async () => {
    const { store, sender, connect, send } = setUp();
    const a = await connect('a');
    const b = await connect('b', bob);
    await send(b, { action: 'subscribe', channel: 'chat:lobby' });
    sender.gone.add('a');

    const outcome = await send(a, { action: 'publish', channel: 'chat:lobby', data: 1 });

    expect(outcome).toMatchObject({ kind: 'published', result: { delivered: 1 } });
    expect(sender.framesFor('b').at(-1)).toMatchObject({ type: 'message', data: 1 });
    expect(store.connections.has('a')).toBe(false);
  });

  it("pruning a gone subscriber removes every one of its memberships, from its record's list", async () => {
    const { store, sender, connect, send } = setUp();
    const a = await connect('a');
    const b = await connect('b', bob);
    for (const channel of ['chat:a', 'chat:b']) {
      await send(a, { action: 'subscribe', channel });
      await send(b, { action: 'subscribe', channel });
    }
    sender.gone.add('b');

    const outcome = await send(a, { action: 'publish', channel: 'chat:a', data: 1 });

    expect(outcome).toMatchObject({ result: { delivered: 1, gone: 1 } });
    expect(store.connections.has('b')).toBe(false);
    for (const channel of [DEFAULT_CHANNEL, 'user:bob', 'chat:a', 'chat:b'])
      expect(store.membersOf(channel)).not.toContain('b');
    expect(store.membersOf('chat:b')).toEqual(['a']);
  });
});

describe('sendmessage (the contract from before channels)', () => {
  it('reaches every connection of the default channel, the sender included, with one shared frame and no ack', async () => {
    const { sender, connect, send } = setUp();
    const a = await connect('a');
    await connect('b', bob);
    await connect('c', anonymous);

    const outcome = await send(a, { action: 'sendmessage', data: { text: 'hi' } });

    expect(outcome).toEqual({
      kind: 'published',
      channel: DEFAULT_CHANNEL,
      result: { messageId: expect.stringMatching(UUID), offset: 1, delivered: 3, gone: 0, failed: 0 },
    });
    const [frame] = sender.framesFor('a');
    expect(frame).toEqual({
      type: 'message',
      channel: DEFAULT_CHANNEL,
      id: expect.stringMatching(UUID),
      data: { text: 'hi' },
      from: 'a',
      user: { id: 'alice', info: { name: 'Alice' } },
      ts: NOW,
      offset: 1,
      epoch: expect.any(String),
    });
    for (const id of ['b', 'c']) expect(sender.framesFor(id)).toEqual([frame]);
  });

  it('is refused when the connection may not publish to the default channel', async () => {
    const { sender, connect, send } = setUp();
    const r = await connect('r', reader);
    await connect('b', bob);

    expect(await send(r, { action: 'sendmessage', data: 1 })).toEqual({ kind: 'rejected', code: 'forbidden' });

    expect(sender.framesFor('r')).toEqual([
      { type: 'error', code: 'forbidden', message: expect.stringContaining('"default"') },
    ]);
    expect(sender.framesFor('b')).toEqual([]);
  });

  it('a message whose frame would exceed 128 KB is refused before any delivery', async () => {
    const { sender, connect, send } = setUp();
    const a = await connect('a');
    await connect('b', bob);

    const outcome = await send(a, { action: 'sendmessage', data: 'x'.repeat(128 * 1024 - 40) });

    expect(outcome).toEqual({ kind: 'rejected', code: 'message_too_large' });
    expect(sender.framesFor('b')).toEqual([]);
    expect(sender.framesFor('a')).toEqual([
      { type: 'error', code: 'message_too_large', message: expect.stringMatching(/limit is 130048/) },
    ]);
  });
});

describe('bad frames and ping', () => {
  it('ping is answered with pong, carrying the id when there is one', async () => {
    const { sender, connect, send } = setUp();
    const a = await connect('a');

    expect(await send(a, { action: 'ping', id: '4' })).toEqual({ kind: 'pong' });
    await send(a, { action: 'ping' });

    expect(sender.framesFor('a')).toEqual([{ type: 'pong', id: '4' }, { type: 'pong' }]);
  });

  it.each([
    [{ action: 'dance', id: '9' }, 'unknown_action', '9'],
    [{ id: '9' }, 'missing_action', '9'],
    [{ action: 'publish', channel: 'chat:a', id: '9' }, 'missing_data', '9'],
    [{ action: 'subscribe', id: '9' }, 'invalid_request', '9'],
    [{ action: 'subscribe', channel: 'bad channel', id: '9' }, 'invalid_channel', '9'],
    [{ action: 'unsubscribe', channel: 5, id: '9' }, 'invalid_request', '9'],
    [{ action: 'publish', channel: 'chat:a', data: 1, id: 9 }, 'invalid_request', undefined],
    [{ action: 'ping', id: 'i'.repeat(65) }, 'invalid_request', undefined],
    ['not json', 'invalid_json', undefined],
    [[1, 2], 'not_an_object', undefined],
    [{ action: 'sendmessage' }, 'missing_data', undefined],
  ])('%j gets exactly one error (%s) to the sender only, and the connection stays usable', async (frame, code, id) => {
    const { sender, connect, send } = setUp();
    const a = await connect('a');
    await connect('b', bob);

    const body = Array.isArray(frame) ? JSON.stringify(frame) : frame;
    expect(await send(a, body)).toEqual({ kind: 'rejected', code });

    const expected = { type: 'error', code, message: expect.any(String), ...(id !== undefined && { id }) };
    expect(sender.framesFor('a')).toEqual([expected]);
    expect('id' in sender.framesFor('a')[0]).toBe(id !== undefined);
    expect(sender.framesFor('b')).toEqual([]);
    await send(a, { action: 'ping', id: 'after' });
    expect(sender.framesFor('a').at(-1)).toEqual({ type: 'pong', id: 'after' });
  });

  it('forgets a sender that vanished before its error frame could be delivered', async () => {
    const { store, sender, connect, send } = setUp();
    const a = await connect('a');
    sender.gone.add('a');

    await send(a, 'garbage');

    expect(store.connections.has('a')).toBe(false);
    expect(store.membersOf(DEFAULT_CHANNEL)).toEqual([]);
  });
});

describe('the server API', () => {
  it("publish reaches the channel's subscribers with from and user null, and returns the message id", async () => {
    const { sender, relay, connect, send } = setUp();
    const a = await connect('a');
    await connect('b', bob);
    await send(a, { action: 'subscribe', channel: 'news:world' });
    sender.sent.length = 0;

    // The server API publishes where clients may not (clientPublish off).
    const result = await relay.publish('news:world', { headline: 'x' });

    expect(result).toEqual({ messageId: expect.stringMatching(UUID), offset: 1, delivered: 1, gone: 0, failed: 0 });
    expect(sender.framesFor('a')).toEqual([
      {
        type: 'message',
        channel: 'news:world',
        id: result.messageId,
        data: { headline: 'x' },
        from: null,
        user: null,
        ts: NOW,
        offset: 1,
        epoch: expect.any(String),
      },
    ]);
    expect(sender.framesFor('b')).toEqual([]);
  });

  it("reaches every connection of a user through the personal channel, and nobody else's", async () => {
    const { sender, relay, connect } = setUp();
    await connect('a1');
    await connect('a2');
    await connect('b', bob);

    expect(await relay.publish('user:alice', 'ping')).toMatchObject({ delivered: 2 });
    expect(sender.framesFor('b')).toEqual([]);
  });

  it('refuses an invalid channel and a frame over 128 KB, delivering nothing', async () => {
    const { sender, relay, connect } = setUp();
    await connect('a');

    await expect(relay.publish('no spaces', 1)).rejects.toMatchObject({ code: 'invalid_channel' });
    await expect(relay.publish(DEFAULT_CHANNEL, 'y'.repeat(200 * 1024))).rejects.toThrow(/limit is 130048/);
    await expect(relay.publish('no spaces', 1)).rejects.toBeInstanceOf(InvalidMessageError);
    expect(sender.sent).toEqual([]);
  });

  it('disconnected connections are skipped', async () => {
    const { sender, relay, connect } = setUp();
    await connect('a');
    await connect('b', bob);

    await relay.disconnect('b');
    const result = await relay.publish(DEFAULT_CHANNEL, { n: 1 });

    expect(result.delivered).toBe(1);
    expect(sender.framesFor('b')).toEqual([]);
  });

  it('closeConnection closes it at the gateway; an unknown one is ConnectionGoneError', async () => {
    const { sender, relay, connect } = setUp();
    await connect('a');

    await relay.closeConnection('a');

    expect(sender.closed).toEqual(['a']);
    await expect(relay.closeConnection('a')).rejects.toBeInstanceOf(ConnectionGoneError);
  });
});

describe('createConnections ($connect needs the store alone)', () => {
  it('records a connection at the time the gateway accepted it', async () => {
    const store = new FakeStore(2, () => Math.floor(NOW / 1000));
    const connections = createConnections({ store, clock: { now: () => NOW } });

    await connections.connect({ connectionId: 'a', sourceIp: '::1', connectedAt: NOW - 5_000, identity: anonymous });
    expect(store.connections.get('a')).toMatchObject({ connectedAt: NOW - 5_000 });
    expect(store.membersOf(DEFAULT_CHANNEL)).toEqual(['a']);
  });

  it('uses the clock when the gateway gave no time', async () => {
    const store = new FakeStore(2, () => Math.floor(NOW / 1000));
    const connections = createConnections({ store, clock: { now: () => NOW } });

    await connections.connect({ connectionId: 'a', sourceIp: '::1', identity: anonymous });

    expect(store.connections.get('a')).toMatchObject({ connectedAt: NOW });
  });
});
