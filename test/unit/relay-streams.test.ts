import { describe, expect, it } from 'vitest';
import {
  ALL_CAPABILITIES,
  API_GATEWAY_MAX_MESSAGE_BYTES,
  APPEND_SPREAD_SECONDS,
  createRelay,
  DEFAULT_NAMESPACE_OPTIONS,
  IDEMPOTENCY_WINDOW_SECONDS,
  type Identity,
  type MessageContext,
} from '../../src/core/index.js';
import { FakeSender, FakeStore, recordingLogger } from '../helpers/fakes.js';

// History, recovery, idempotent publish, presence and join/leave, on the in-memory store.

const START = 1_700_000_000_000;
const alice: Identity = { userId: 'alice', info: { name: 'Alice' }, capabilities: ALL_CAPABILITIES };
const bob: Identity = { userId: 'bob', info: null, capabilities: ALL_CAPABILITIES };
/** May subscribe and publish in rooms, but neither read history nor list presence. */
const plainUser: Identity = { userId: 'pat', info: null, capabilities: { 'room:*': ['subscribe', 'publish'] } };

/** `room` keeps 5 publications for 10 minutes, with presence and join/leave; `chat` keeps nothing. */
function setUp() {
  let now = START;
  const store = new FakeStore(2, () => Math.floor(now / 1000));
  const sender = new FakeSender();
  const relay = createRelay({
    store,
    sender,
    clock: { now: () => now },
    logger: recordingLogger(),
    namespaces: {
      room: { ...DEFAULT_NAMESPACE_OPTIONS, presence: true, joinLeave: true, historySize: 5, historyTtlSeconds: 600 },
      chat: { ...DEFAULT_NAMESPACE_OPTIONS },
    },
    maxSubscriptions: 10,
  });
  const connect = async (connectionId: string, identity: Identity = alice): Promise<MessageContext> => {
    // Connected long ago: a Gone answer means gone.
    await relay.connect({ connectionId, sourceIp: '203.0.113.9', connectedAt: START - 60_000, identity });
    return { connectionId, connectedAt: START - 60_000, identity };
  };
  const send = (context: MessageContext, frame: unknown) => relay.message(context, JSON.stringify(frame));
  const publishMany = async (channel: string, count: number) => {
    for (let i = 0; i < count; i++) await relay.publish(channel, { n: i + 1 });
  };
  const advance = (ms: number) => {
    now += ms;
  };
  const framesOf = (connectionId: string, type?: string) =>
    sender.framesFor(connectionId).filter((frame) => type === undefined || frame.type === type);
  return { store, sender, relay, connect, send, publishMany, advance, framesOf };
}

const offsetsOf = (frames: { offset: number }[]) => frames.map((frame) => frame.offset);

describe('history', () => {
  it('keeps the latest historySize publications, oldest first, as the message frames subscribers got', async () => {
    const { relay, connect, send, publishMany, framesOf } = setUp();
    const a = await connect('a');
    await send(a, { action: 'subscribe', channel: 'room:h' });
    await publishMany('room:h', 7);

    await send(a, { action: 'history', channel: 'room:h', id: 'h1' });

    const [reply] = framesOf('a', 'history');
    expect(reply).toMatchObject({ id: 'h1', channel: 'room:h', position: { offset: 7 }, more: false });
    expect(offsetsOf(reply.publications)).toEqual([3, 4, 5, 6, 7]);
    expect(reply.publications).toEqual(framesOf('a', 'message').slice(2));
    expect((await relay.history('room:h', {})).publications.map((p) => p.offset)).toEqual([3, 4, 5, 6, 7]);
  });

  it('with limit, the latest ones; with since, only those after it; a since of another epoch reads it all', async () => {
    const { relay, publishMany } = setUp();
    await publishMany('room:h', 7);
    const { epoch } = (await relay.history('room:h', {})).position;
    const offsets = async (query: Parameters<typeof relay.history>[1]) =>
      (await relay.history('room:h', query)).publications.map((p) => p.offset);

    expect(await offsets({ limit: 2 })).toEqual([6, 7]);
    expect(await offsets({ since: { offset: 4, epoch } })).toEqual([5, 6, 7]);
    expect(await offsets({ since: { offset: 4, epoch }, limit: 1 })).toEqual([7]);
    expect(await offsets({ since: { offset: 4, epoch }, until: 6 })).toEqual([5, 6]);
    expect(await offsets({ since: { offset: 7, epoch } })).toEqual([]);
    expect(await offsets({ since: { offset: 4, epoch: 'another' } })).toEqual([3, 4, 5, 6, 7]);
  });

  it('drops what outlived historyTtlSeconds', async () => {
    const { relay, publishMany, advance } = setUp();
    await publishMany('room:h', 2);
    advance(300_000);
    await publishMany('room:h', 2);
    advance(301_000);

    expect((await relay.history('room:h', {})).publications.map((p) => p.offset)).toEqual([3, 4]);
  });

  it('is empty, with a position, for a channel never published to or a namespace that keeps none', async () => {
    const { relay, publishMany } = setUp();
    await publishMany('chat:none', 3);

    expect(await relay.history('room:unknown', {})).toEqual({
      channel: 'room:unknown',
      position: { offset: 0, epoch: expect.any(String) },
      publications: [],
    });
    expect(await relay.history('chat:none', { limit: 50 })).toMatchObject({
      position: { offset: 3 },
      publications: [],
    });
  });

  it('refuses a limit over historySize and a reader without the history capability, with the id', async () => {
    const { relay, connect, send, framesOf } = setUp();
    const p = await connect('p', plainUser);

    await expect(relay.history('room:h', { limit: 6 })).rejects.toMatchObject({ code: 'invalid_request' });
    expect(await send(p, { action: 'history', channel: 'room:h', id: 'x', limit: 6 })).toEqual({
      kind: 'rejected',
      code: 'forbidden',
    });
    const a = await connect('a');
    await send(a, { action: 'history', channel: 'room:h', id: 'y', limit: 6 });

    expect(framesOf('p')).toEqual([{ type: 'error', id: 'x', code: 'forbidden', message: expect.any(String) }]);
    expect(framesOf('a')).toEqual([
      { type: 'error', id: 'y', code: 'invalid_request', message: expect.stringMatching(/at most 5.*historySize/) },
    ]);
  });

  it('splits a reply over 128 KB into pages with the same id, each under the quota, in order', async () => {
    const { relay, connect, send, sender, framesOf } = setUp();
    const a = await connect('a');
    // Two fit a page (127 KB), a third does not.
    for (let i = 0; i < 5; i++) await relay.publish('room:big', 'x'.repeat(50_000));

    await send(a, { action: 'history', channel: 'room:big', id: 'pages' });

    const pages = framesOf('a', 'history');
    expect(pages.map((page) => [page.id, page.more])).toEqual([
      ['pages', true],
      ['pages', true],
      ['pages', false],
    ]);
    expect(pages.flatMap((page) => offsetsOf(page.publications))).toEqual([1, 2, 3, 4, 5]);
    for (const { payload } of sender.sent)
      expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(API_GATEWAY_MAX_MESSAGE_BYTES);
  });
});

describe('recovery on subscribe', () => {
  /** `a` got offsets 1..2 on room:r, then 3..5 were published while it was away. */
  async function missedThree() {
    const t = setUp();
    const a = await t.connect('a');
    await t.send(a, { action: 'subscribe', channel: 'room:r' });
    await t.publishMany('room:r', 2);
    const last = t.framesOf('a', 'message').at(-1)!;
    await t.send(a, { action: 'unsubscribe', channel: 'room:r' });
    await t.publishMany('room:r', 3);
    t.sender.sent.length = 0;
    return { ...t, a, since: { offset: last.offset as number, epoch: last.epoch as string } };
  }

  it('replays every publication after since, in offset order, after subscribed with recovered true', async () => {
    const { a, send, since, sender } = await missedThree();

    expect(await send(a, { action: 'subscribe', channel: 'room:r', id: 's', since })).toEqual({
      kind: 'subscribed',
      channel: 'room:r',
      recovered: true,
      replayed: 3,
    });

    const frames = sender.framesFor('a');
    expect(frames[0]).toEqual({
      type: 'subscribed',
      id: 's',
      channel: 'room:r',
      position: { offset: 5, epoch: since.epoch },
      recovered: true,
    });
    expect(frames.slice(1).map((frame) => [frame.type, frame.offset, frame.data])).toEqual([
      ['message', 3, { n: 1 }],
      ['message', 4, { n: 2 }],
      ['message', 5, { n: 3 }],
    ]);
  });

  it('from offset 0 replays the stream from its start', async () => {
    const { relay, connect, send, publishMany, framesOf } = setUp();
    const a = await connect('a');
    const { epoch } = (await relay.history('room:z', {})).position;
    await publishMany('room:z', 2);

    await send(a, { action: 'subscribe', channel: 'room:z', since: { offset: 0, epoch } });

    expect(framesOf('a', 'subscribed')[0].recovered).toBe(true);
    expect(offsetsOf(framesOf('a', 'message'))).toEqual([1, 2]);
  });

  it('at the current position is recovered with nothing to replay, also where no history is kept', async () => {
    const { relay, connect, send, publishMany, framesOf } = setUp();
    const a = await connect('a');
    await publishMany('chat:plain', 2);
    const { epoch } = (await relay.history('chat:plain', {})).position;

    await send(a, { action: 'subscribe', channel: 'chat:plain', since: { offset: 2, epoch } });
    await send(a, { action: 'subscribe', channel: 'chat:plain', since: { offset: 1, epoch } });

    expect(framesOf('a', 'subscribed').map((frame) => frame.recovered)).toEqual([true, false]);
    expect(framesOf('a', 'message')).toEqual([]);
  });

  it.each([
    ['another epoch', (since: { offset: number; epoch: string }) => ({ ...since, epoch: 'old-epoch' })],
    ['an offset the stream never reached', (since: { offset: number; epoch: string }) => ({ ...since, offset: 99 })],
  ])('with %s is recovered false and replays nothing', async (_name, change) => {
    const { a, send, since, sender } = await missedThree();

    await send(a, { action: 'subscribe', channel: 'room:r', since: change(since) });

    expect(sender.framesFor('a')).toEqual([
      { type: 'subscribed', channel: 'room:r', position: { offset: 5, epoch: since.epoch }, recovered: false },
    ]);
  });

  it('further back than historySize, or past the TTL, is recovered false', async () => {
    const { a, send, since, publishMany, advance, framesOf, store } = await missedThree();
    await publishMany('room:r', 1);
    // 6 behind with 5 kept: one is gone from the window.
    await send(a, { action: 'subscribe', channel: 'room:r', since: { ...since, offset: 0 } });
    // Within the window but expired: the stream itself lives longer (a day) than its history (10 minutes).
    advance(601_000);
    await send(a, { action: 'subscribe', channel: 'room:r', since });

    expect(framesOf('a', 'subscribed').map((frame) => frame.recovered)).toEqual([false, false]);
    expect(framesOf('a', 'message')).toEqual([]);
    expect(store.streams.get('room:r')!.offset).toBe(6);
  });

  it('is recovered false once the publication at since has less than a minute left: later ones may lapse first', async () => {
    const { a, send, since, advance, framesOf } = await missedThree();
    // Publications append in any order while they run, so one after since may be kept a little less.
    advance((600 - APPEND_SPREAD_SECONDS) * 1000);

    await send(a, { action: 'subscribe', channel: 'room:r', since });

    expect(framesOf('a', 'subscribed')[0].recovered).toBe(false);
    expect(framesOf('a', 'message')).toEqual([]);
  });

  it('needs the history capability: without it, recovered is false and nothing is replayed', async () => {
    const { connect, send, relay, publishMany, framesOf } = setUp();
    const p = await connect('p', plainUser);
    const { epoch } = (await relay.history('room:c', {})).position;
    await publishMany('room:c', 2);

    await send(p, { action: 'subscribe', channel: 'room:c', since: { offset: 0, epoch } });

    expect(framesOf('p', 'subscribed')[0]).toMatchObject({ recovered: false, position: { offset: 2 } });
    expect(framesOf('p', 'message')).toEqual([]);
  });

  it('a publish that failed after taking its offset leaves a gap that does not block recovery', async () => {
    const { a, send, since, store, relay, framesOf } = await missedThree();
    const append = store.append.bind(store);
    store.append = async () => {
      throw new Error('table unavailable');
    };
    await expect(relay.publish('room:r', 'lost')).rejects.toThrow('table unavailable');
    store.append = append;
    await relay.publish('room:r', 'after the gap');

    await send(a, { action: 'subscribe', channel: 'room:r', since });

    expect(framesOf('a', 'subscribed')[0].recovered).toBe(true);
    expect(offsetsOf(framesOf('a', 'message'))).toEqual([3, 4, 5, 7]);
  });
});

describe('idempotent publish', () => {
  it('a repeated key on the channel is acknowledged with the first offset and id, and not kept or delivered again', async () => {
    const { connect, send, framesOf, store } = setUp();
    const a = await connect('a');
    const b = await connect('b', bob);
    await send(b, { action: 'subscribe', channel: 'room:i' });
    const publish = { action: 'publish', channel: 'room:i', data: 'once', idempotencyKey: 'k-1' };

    await send(a, { ...publish, id: '1' });
    const outcome = await send(a, { ...publish, id: '2' });

    const [first, second] = framesOf('a', 'ack');
    expect(second).toEqual({ ...first, id: '2', duplicate: true });
    expect(first.duplicate).toBeUndefined();
    expect(outcome).toMatchObject({ kind: 'published', result: { delivered: 0, duplicate: true } });
    expect(framesOf('b', 'message').map((frame) => frame.data)).toEqual(['once']);
    expect([...store.history.values()][0]!.size).toBe(1);
  });

  it('is per channel, for 5 minutes, and the same over the server API', async () => {
    const { relay } = setUp();
    const first = await relay.publish('room:i', 1, { idempotencyKey: 'k' });

    expect(await relay.publish('room:i', 2, { idempotencyKey: 'k' })).toEqual({
      messageId: first.messageId,
      offset: 1,
      delivered: 0,
      gone: 0,
      failed: 0,
      duplicate: true,
    });
    expect(await relay.publish('room:other', 3, { idempotencyKey: 'k' })).toMatchObject({ offset: 1 });
    expect((await relay.publish('room:i', 4)).offset).toBe(2);
  });

  it('a repeat after the window publishes again', async () => {
    const { relay, advance } = setUp();
    await relay.publish('room:i', 1, { idempotencyKey: 'k' });
    advance(IDEMPOTENCY_WINDOW_SECONDS * 1000);

    expect(await relay.publish('room:i', 2, { idempotencyKey: 'k' })).not.toHaveProperty('duplicate');
  });

  it('a publish that failed frees its key, so the retry publishes', async () => {
    const { relay, store } = setUp();
    const nextPosition = store.nextPosition.bind(store);
    store.nextPosition = async () => {
      throw new Error('throttled');
    };
    await expect(relay.publish('room:i', 1, { idempotencyKey: 'k' })).rejects.toThrow('throttled');
    store.nextPosition = nextPosition;

    expect(await relay.publish('room:i', 1, { idempotencyKey: 'k' })).toMatchObject({ offset: 1, delivered: 0 });
    expect(store.claims.get('room:i#k')).toMatchObject({ offset: 1 });
  });

  it('a kept publication whose key could not be settled is still delivered, and its key stays claimed', async () => {
    const { relay, store, connect, send, framesOf } = setUp();
    const b = await connect('b', bob);
    await send(b, { action: 'subscribe', channel: 'room:s' });
    store.settle = async () => {
      throw new Error('throttled');
    };

    expect(await relay.publish('room:s', 'once', { idempotencyKey: 'k' })).toMatchObject({ offset: 1, delivered: 1 });
    expect(framesOf('b', 'message').map((frame) => frame.data)).toEqual(['once']);
    expect(store.claims.get('room:s#k')!.offset).toBeUndefined();
  });

  it('a repeat while the first is still being placed waits, then answers in_progress', async () => {
    const { relay, store } = setUp();
    await store.claim('room:i', 'k', 'first-id', { expiresAt: START / 1000 + 300, staleBefore: 0 });

    await expect(relay.publish('room:i', 1, { idempotencyKey: 'k' })).rejects.toMatchObject({ code: 'in_progress' });
    expect(store.streams.has('room:i')).toBe(false);
  });

  it('a repeat while the first is being placed gets its offset once it is settled', async () => {
    const { relay, store } = setUp();
    await store.claim('room:i', 'k', 'first-id', { expiresAt: START / 1000 + 300, staleBefore: 0 });
    setTimeout(() => void store.settle('room:i', 'k', 'first-id', 41), 150);

    expect(await relay.publish('room:i', 1, { idempotencyKey: 'k' })).toMatchObject({
      messageId: 'first-id',
      offset: 41,
      duplicate: true,
    });
  });
});

describe('presence', () => {
  it('lists one entry per subscribed connection, with who it is', async () => {
    const { relay, connect, send, framesOf } = setUp();
    const a = await connect('a');
    const b = await connect('b', bob);
    const a2 = await connect('a2');
    for (const context of [a, b, a2]) await send(context, { action: 'subscribe', channel: 'room:p' });

    await send(a, { action: 'presence', channel: 'room:p', id: 'who' });

    const members = [
      { connectionId: 'a', userId: 'alice', info: { name: 'Alice' } },
      { connectionId: 'a2', userId: 'alice', info: { name: 'Alice' } },
      { connectionId: 'b', userId: 'bob', info: null },
    ];
    const [reply] = framesOf('a', 'presence');
    expect(reply).toMatchObject({ id: 'who', channel: 'room:p', more: false });
    expect(reply.members.sort((x: any, y: any) => x.connectionId.localeCompare(y.connectionId))).toEqual(members);
    const listed = (await relay.presence('room:p')).members;
    expect(listed.sort((x, y) => x.connectionId.localeCompare(y.connectionId))).toEqual(members);
  });

  it('is forbidden without the presence capability, and where the namespace keeps no presence', async () => {
    const { relay, connect, send, framesOf } = setUp();
    const p = await connect('p', plainUser);
    const a = await connect('a');

    await send(p, { action: 'presence', channel: 'room:p', id: '1' });
    await send(a, { action: 'presence', channel: 'chat:p', id: '2' });

    expect(framesOf('p')[0]).toMatchObject({ type: 'error', id: '1', code: 'forbidden' });
    expect(framesOf('a')[0]).toMatchObject({ type: 'error', id: '2', code: 'forbidden', message: /presence off/ });
    await expect(relay.presence('chat:p')).rejects.toMatchObject({ code: 'forbidden' });
  });
});

describe('join and leave', () => {
  it('the other members hear of a new subscriber after its subscribed reply, and of its unsubscribe', async () => {
    const { connect, send, framesOf, sender } = setUp();
    const a = await connect('a');
    const b = await connect('b', bob);
    await send(a, { action: 'subscribe', channel: 'room:j' });
    sender.sent.length = 0;

    await send(b, { action: 'subscribe', channel: 'room:j' });
    await send(b, { action: 'subscribe', channel: 'room:j' });
    await send(b, { action: 'unsubscribe', channel: 'room:j' });
    await send(b, { action: 'unsubscribe', channel: 'room:j' });

    const member = { connectionId: 'b', userId: 'bob', info: null };
    expect(framesOf('a')).toEqual([
      { type: 'join', channel: 'room:j', member },
      { type: 'leave', channel: 'room:j', member },
    ]);
    expect(framesOf('b').map((frame) => frame.type)).toEqual([
      'subscribed',
      'subscribed',
      'unsubscribed',
      'unsubscribed',
    ]);
  });

  it('a disconnect is a leave in every joinLeave channel it was in, and nowhere else', async () => {
    const { relay, connect, send, framesOf, sender } = setUp();
    const a = await connect('a');
    const b = await connect('b', bob);
    for (const channel of ['room:1', 'room:2', 'chat:quiet']) {
      await send(a, { action: 'subscribe', channel });
      await send(b, { action: 'subscribe', channel });
    }
    sender.sent.length = 0;

    await relay.disconnect('b');
    await relay.disconnect('b');

    const member = { connectionId: 'b', userId: 'bob', info: null };
    expect(framesOf('a').sort((x, y) => x.channel.localeCompare(y.channel))).toEqual([
      { type: 'leave', channel: 'room:1', member },
      { type: 'leave', channel: 'room:2', member },
    ]);
  });

  // Never a join that no leave follows; a leave for a member listeners never saw is harmless.
  it('a subscriber found gone at its own reply is forgotten, with a leave and no join', async () => {
    const { connect, send, framesOf, sender, store } = setUp();
    const a = await connect('a');
    const b = await connect('b', bob);
    await send(a, { action: 'subscribe', channel: 'room:v' });
    sender.gone.add('b');
    sender.sent.length = 0;

    await send(b, { action: 'subscribe', channel: 'room:v' });

    expect(framesOf('a').map((frame) => [frame.type, frame.member.connectionId])).toEqual([['leave', 'b']]);
    expect(store.membersOf('room:v')).toEqual(['a']);
  });

  it('a membership that outlived its record (a subscribe that raced $disconnect) gets its leave when pruned', async () => {
    const { relay, connect, send, framesOf, sender, store } = setUp();
    const a = await connect('a');
    const b = await connect('b', bob);
    await send(a, { action: 'subscribe', channel: 'room:o' });
    await send(b, { action: 'subscribe', channel: 'room:o' });
    store.connections.delete('b');
    sender.gone.add('b');
    sender.sent.length = 0;

    await relay.publish('room:o', 'x');

    expect(framesOf('a').map((frame) => [frame.type, frame.member?.connectionId])).toEqual([
      ['message', undefined],
      ['leave', 'b'],
    ]);
    expect(store.membersOf('room:o')).toEqual(['a']);
  });

  it('a connection found gone by a delivery is pruned, and the others hear it left', async () => {
    const { relay, connect, send, framesOf, sender, store } = setUp();
    const a = await connect('a');
    const b = await connect('b', bob);
    await send(a, { action: 'subscribe', channel: 'room:g' });
    await send(b, { action: 'subscribe', channel: 'room:g' });
    sender.gone.add('b');
    sender.sent.length = 0;

    expect(await relay.publish('room:g', 'hello')).toMatchObject({ delivered: 1, gone: 1 });

    expect(framesOf('a').map((frame) => frame.type)).toEqual(['message', 'leave']);
    expect(framesOf('a')[1].member.connectionId).toBe('b');
    expect(store.membersOf('room:g')).toEqual(['a']);
    expect((await relay.presence('room:g')).members.map((m) => m.connectionId)).toEqual(['a']);
  });
});
