import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevServer } from '../../src/local/dev-server.js';
import { callServerApi, connectUser, type ServerClient, startChannelServer, unique } from '../helpers/dev-server.js';
import type { TestClient } from '../helpers/ws-client.js';

/** `chat`'s historySize in serverless.yml. */
const HISTORY_SIZE = 100;
/** A history reply is split so that no frame is over 128 KB (API Gateway's message limit). */
const MAX_FRAME_BYTES = 128 * 1024;

const invalidRequest = (id: string) => ({ type: 'error', id, code: 'invalid_request', message: expect.any(String) });
const forbidden = (id: string) => ({ type: 'error', id, code: 'forbidden', message: expect.any(String) });
const byOffset = (frames: any[]) => [...frames].sort((a, b) => a.offset - b.offset);
const offsetsOf = (frames: any[]) => frames.map((frame) => frame.offset);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Publishes each of `items` over WebSocket, one after the other; resolves with the acks. */
async function publishAll(client: TestClient, channel: string, items: unknown[]): Promise<any[]> {
  const acks = [];
  for (const data of items) acks.push(await client.request({ action: 'publish', channel, data }));
  return acks;
}

/** Publishes `count` small messages through the server API, a few at a time (order does not matter here). */
async function publishThroughServerApi(server: DevServer, channel: string, count: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const response = await callServerApi(server, 'POST', `/channels/${channel}/messages`, { data: next++ });
      expect(response.status).toBe(202);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** The next `count` message frames of `channel`, oldest offset first (live deliveries may arrive in any order). */
async function liveMessages(client: TestClient, channel: string, count: number): Promise<any[]> {
  const frames = [];
  for (let i = 0; i < count; i++) {
    frames.push(await client.nextMatching((f) => f.type === 'message' && f.channel === channel, 5000, 'message'));
  }
  return byOffset(frames);
}

/** The next `count` frames of any kind, in the order they arrived. */
async function nextFrames(client: TestClient, count: number): Promise<any[]> {
  const frames = [];
  for (let i = 0; i < count; i++) frames.push(await client.next());
  return frames;
}

/** A subscriber that stays on `channel`: what it received live is what a replay must repeat, byte for byte. */
async function witnessOf(server: DevServer, channel: string): Promise<ServerClient> {
  const witness = await connectUser(server, { sub: unique('witness-') });
  await witness.request({ action: 'subscribe', channel });
  return witness;
}

// Recovery, history and idempotent publishing over real sockets, as `npm run dev` runs them.
// Nothing in this file publishes to `default` or to personal channels, so every frame a
// client receives is accounted for: "nothing else arrived" is checked, not assumed. The tests
// share one server; each uses channels of its own.
let server: DevServer;

beforeAll(async () => {
  server = await startChannelServer();
});
afterAll(async () => {
  await server?.close();
});

describe('recovery after a reconnect', () => {
  it('reconnecting with since gets recovered true, then exactly the missed publications, oldest first, once', async () => {
    const channel = unique('chat:recover-');
    const witness = await witnessOf(server, channel);
    const alice = await connectUser(server, { sub: 'alice' });
    const bob = await connectUser(server, { sub: 'bob', info: { name: 'Bob' } });
    await alice.request({ action: 'subscribe', channel });
    await publishAll(bob, channel, ['one', 'two', 'three']);
    const seen = await liveMessages(alice, channel, 3);
    const last = { offset: seen.at(-1).offset, epoch: seen.at(-1).epoch };
    expect(last.offset).toBe(3);
    await alice.close();

    const missedAcks = await publishAll(bob, channel, ['four', 'five', 'six', 'seven', 'eight']);
    const missed = (await liveMessages(witness, channel, 8)).slice(3);
    const back = await connectUser(server, { sub: 'alice' });
    back.send({ action: 'subscribe', channel, id: 'again', since: last });
    const [subscribed, ...replayed] = await nextFrames(back, 6);

    expect(subscribed).toEqual({
      type: 'subscribed',
      id: 'again',
      channel,
      position: { offset: 8, epoch: last.epoch },
      recovered: true,
    });
    expect(offsetsOf(replayed)).toEqual([4, 5, 6, 7, 8]);
    expect(replayed.map((frame) => frame.id)).toEqual(missedAcks.map((ack) => ack.messageId));
    // The replay is the frames subscribers got live (data, from, user, ts), not a re-publication.
    expect(replayed).toEqual(missed);
    expect(replayed[0]).toMatchObject({ data: 'four', from: bob.connectionId, user: { id: 'bob' } });
    expect(await back.settle(500)).toEqual([]);

    // Subscribed again from the very position it has: recovered, and nothing to replay.
    const upToDate = await connectUser(server, { sub: 'alice' });
    upToDate.send({ action: 'subscribe', channel, id: 'current', since: { offset: 8, epoch: last.epoch } });
    expect(await upToDate.next()).toEqual({
      type: 'subscribed',
      id: 'current',
      channel,
      position: { offset: 8, epoch: last.epoch },
      recovered: true,
    });
    expect(await upToDate.settle(500)).toEqual([]);
    await Promise.all([witness.close(), bob.close(), back.close(), upToDate.close()]);
  });

  it('since offset 0 in the current epoch replays everything kept; live publishing goes on after the replay', async () => {
    const channel = unique('chat:from-start-');
    const writer = await connectUser(server, { sub: 'writer' });
    const { position } = await writer.request({ action: 'subscribe', channel });
    await publishAll(writer, channel, ['a', 'b', 'c']);
    const kept = await liveMessages(writer, channel, 3);

    const newcomer = await connectUser(server, { sub: 'newcomer' });
    newcomer.send({ action: 'subscribe', channel, id: 's', since: { offset: 0, epoch: position.epoch } });
    const [subscribed, ...replayed] = await nextFrames(newcomer, 4);
    const ack = await writer.request({ action: 'publish', channel, data: 'd' });

    expect(subscribed).toMatchObject({ type: 'subscribed', position: { offset: 3 }, recovered: true });
    expect(replayed).toEqual(kept);
    expect(await newcomer.next()).toMatchObject({ type: 'message', id: ack.messageId, offset: 4, data: 'd' });
    expect(await newcomer.settle(300)).toEqual([]);
    await Promise.all([writer.close(), newcomer.close()]);
  });

  it.each([
    ['another epoch', (epoch: string) => ({ offset: 1, epoch: `${epoch}-not` })],
    ['an offset one past the position', (epoch: string) => ({ offset: 4, epoch })],
    ['an offset far past the position', (epoch: string) => ({ offset: 1_000_000, epoch })],
  ])('since with %s: recovered false, and nothing is replayed', async (_name, sinceFor) => {
    const channel = unique('chat:stale-');
    const writer = await connectUser(server, { sub: 'writer' });
    const { position } = await writer.request({ action: 'subscribe', channel });
    await publishAll(writer, channel, [1, 2, 3]);
    const client = await connectUser(server, { sub: 'returning' });

    client.send({ action: 'subscribe', channel, id: 's', since: sinceFor(position.epoch) });

    expect(await client.next()).toEqual({
      type: 'subscribed',
      id: 's',
      channel,
      position: { offset: 3, epoch: position.epoch },
      recovered: false,
    });
    expect(await client.settle(500)).toEqual([]);
    // Not recovered, but subscribed all the same: live publications arrive.
    const ack = await writer.request({ action: 'publish', channel, data: 4 });
    expect(await client.next()).toMatchObject({ type: 'message', id: ack.messageId, offset: 4 });
    await Promise.all([writer.close(), client.close()]);
  });

  it(`a gap of more than historySize (${HISTORY_SIZE}) is not recovered; a gap of exactly historySize is`, async () => {
    const channel = unique('chat:gap-');
    const first = await connectUser(server, { sub: 'first' });
    const { epoch } = (await first.request({ action: 'subscribe', channel })).position;
    await first.close();
    await publishThroughServerApi(server, channel, HISTORY_SIZE + 1);

    const tooFar = await connectUser(server, { sub: 'too-far' });
    tooFar.send({ action: 'subscribe', channel, id: 'far', since: { offset: 0, epoch } });
    expect(await tooFar.next()).toEqual({
      type: 'subscribed',
      id: 'far',
      channel,
      position: { offset: HISTORY_SIZE + 1, epoch },
      recovered: false,
    });
    expect(await tooFar.settle(500)).toEqual([]);

    const justInside = await connectUser(server, { sub: 'just-inside' });
    justInside.send({ action: 'subscribe', channel, id: 'near', since: { offset: 1, epoch } });
    const [subscribed, ...replayed] = await nextFrames(justInside, HISTORY_SIZE + 1);
    expect(subscribed).toMatchObject({ id: 'near', position: { offset: HISTORY_SIZE + 1, epoch }, recovered: true });
    expect(offsetsOf(replayed)).toEqual(range(2, HISTORY_SIZE + 1));
    expect(replayed.every((frame) => frame.type === 'message' && frame.from === null && frame.epoch === epoch)).toBe(
      true,
    );
    expect(await justInside.settle(300)).toEqual([]);
    await Promise.all([tooFar.close(), justInside.close()]);
  });

  it('a namespace without history recovers only from the current position', async () => {
    const channel = unique('plain:recover-');
    const writer = await connectUser(server, { sub: 'writer' });
    const { epoch } = (await writer.request({ action: 'subscribe', channel })).position;
    await publishAll(writer, channel, ['x', 'y']);

    const current = await connectUser(server, { sub: 'current' });
    current.send({ action: 'subscribe', channel, id: 'c', since: { offset: 2, epoch } });
    expect(await current.next()).toEqual({
      type: 'subscribed',
      id: 'c',
      channel,
      position: { offset: 2, epoch },
      recovered: true,
    });
    const behind = await connectUser(server, { sub: 'behind' });
    behind.send({ action: 'subscribe', channel, id: 'b', since: { offset: 1, epoch } });
    expect(await behind.next()).toEqual({
      type: 'subscribed',
      id: 'b',
      channel,
      position: { offset: 2, epoch },
      recovered: false,
    });

    expect(await current.settle(500)).toEqual([]);
    expect(await behind.settle(0)).toEqual([]);
    await Promise.all([writer.close(), current.close(), behind.close()]);
  });

  it.each([
    ['a negative offset', { offset: -1, epoch: 'e' }],
    ['an offset that is a string', { offset: '1', epoch: 'e' }],
    ['an offset that is not an integer', { offset: 1.5, epoch: 'e' }],
    ['no epoch', { offset: 1 }],
    ['an empty epoch', { offset: 1, epoch: '' }],
    ['an epoch of 65 characters', { offset: 1, epoch: 'e'.repeat(65) }],
    ['a number instead of an object', 3],
  ])('a subscribe whose since has %s is invalid_request, and subscribes nothing', async (_name, since) => {
    const channel = unique('chat:bad-since-');
    const client = await connectUser(server, { sub: 'client' });
    const writer = await connectUser(server, { sub: 'writer' });

    expect(await client.request({ action: 'subscribe', channel, id: 'bad', since })).toEqual(invalidRequest('bad'));

    await writer.request({ action: 'publish', channel, data: 'not for you' });
    expect(await client.settle(300)).toEqual([]);
    await Promise.all([client.close(), writer.close()]);
  });
});

describe('the history action', () => {
  it('answers oldest first: all kept by default, the latest n with limit, only later ones with since', async () => {
    const channel = unique('chat:history-');
    const witness = await witnessOf(server, channel);
    const writer = await connectUser(server, { sub: 'writer' });
    await publishAll(writer, channel, ['m1', 'm2', 'm3', 'm4', 'm5']);
    const live = await liveMessages(witness, channel, 5);
    const { epoch } = live[0];
    // Reading needs the capability, not a subscription.
    const reader = await connectUser(server, { sub: 'reader' });

    const cases: [Record<string, unknown>, any[]][] = [
      [{}, live],
      [{ limit: 2 }, live.slice(3)],
      [{ limit: 1 }, live.slice(4)],
      [{ limit: HISTORY_SIZE }, live],
      [{ since: { offset: 3, epoch } }, live.slice(3)],
      [{ since: { offset: 1, epoch }, limit: 2 }, live.slice(3)],
      [{ since: { offset: 0, epoch } }, live],
      [{ since: { offset: 5, epoch } }, []],
      // Offsets of another stream mean nothing here: read from this stream's start.
      [{ since: { offset: 2, epoch: `${epoch}-old` } }, live],
    ];
    for (const [query, publications] of cases) {
      const pages = await reader.requestPages({ action: 'history', channel, id: 'h', ...query });
      expect(pages, JSON.stringify(query)).toEqual([
        { type: 'history', id: 'h', channel, position: { offset: 5, epoch }, publications, more: false },
      ]);
    }
    expect(await reader.settle(300)).toEqual([]);
    await Promise.all([witness.close(), writer.close(), reader.close()]);
  });

  it('an unknown channel, and a namespace without history, answer with no publications and the position', async () => {
    const reader = await connectUser(server, { sub: 'reader' });
    const unknown = unique('chat:nobody-');
    const plain = unique('plain:history-');
    await publishAll(reader, plain, ['p1', 'p2']);

    expect(await reader.requestPages({ action: 'history', channel: unknown, id: 'u' })).toEqual([
      {
        type: 'history',
        id: 'u',
        channel: unknown,
        position: { offset: 0, epoch: expect.any(String) },
        publications: [],
        more: false,
      },
    ]);
    expect(await reader.requestPages({ action: 'history', channel: plain, id: 'p' })).toEqual([
      {
        type: 'history',
        id: 'p',
        channel: plain,
        position: { offset: 2, epoch: expect.any(String) },
        publications: [],
        more: false,
      },
    ]);
    await reader.close();
  });

  it.each([
    ['limit 0', { limit: 0 }],
    ['a negative limit', { limit: -1 }],
    ['limit "5"', { limit: '5' }],
    ['a limit that is not an integer', { limit: 2.5 }],
    [`a limit over historySize (${HISTORY_SIZE + 1})`, { limit: HISTORY_SIZE + 1 }],
    ['since.offset -1', { since: { offset: -1, epoch: 'e' } }],
    ['since.offset "1"', { since: { offset: '1', epoch: 'e' } }],
    ['since without epoch', { since: { offset: 1 } }],
    ['since with an epoch that is a number', { since: { offset: 1, epoch: 7 } }],
    ['since that is a string', { since: '1' }],
  ])('%s is invalid_request, answered with the request id', async (_name, query) => {
    const reader = await connectUser(server, { sub: 'reader' });

    expect(await reader.requestPages({ action: 'history', channel: unique('chat:bad-'), id: 'bad', ...query })).toEqual(
      [invalidRequest('bad')],
    );
    expect(await reader.request({ action: 'ping', id: 'after' })).toEqual({ type: 'pong', id: 'after' });
    expect(await reader.settle(300)).toEqual([]);
    await reader.close();
  });

  it('needs the history capability: subscribe and publish are not enough, history alone is', async () => {
    const channel = unique('chat:capability-');
    const member = await connectUser(server, { sub: 'member', channels: { 'chat:*': ['subscribe', 'publish'] } });
    const auditor = await connectUser(server, { sub: 'auditor', channels: { 'chat:*': ['history'] } });
    await member.request({ action: 'subscribe', channel });
    const ack = await member.request({ action: 'publish', channel, data: 'kept' });

    expect(await member.requestPages({ action: 'history', channel, id: 'h' })).toEqual([forbidden('h')]);
    const [page] = await auditor.requestPages({ action: 'history', channel, id: 'h' });
    expect(page).toMatchObject({ type: 'history', id: 'h', more: false, publications: [{ id: ack.messageId }] });
    await Promise.all([member.close(), auditor.close()]);
  });

  it('a reply over 128 KB comes as several history frames with the same id, each at most 128 KB, in order', async () => {
    // 70 KB each: no two fit in one frame, so every page holds exactly one.
    const channel = unique('chat:pages-');
    const witness = await witnessOf(server, channel);
    // Over 32 KB a client frame would exceed API Gateway's frame size: publish through the server API.
    for (const digit of ['1', '2', '3']) {
      const data = digit.repeat(70 * 1024);
      expect((await callServerApi(server, 'POST', `/channels/${channel}/messages`, { data })).status).toBe(202);
    }
    const live = await liveMessages(witness, channel, 3);
    const reader = await connectUser(server, { sub: 'reader' });

    for (const [limit, expected] of [
      [undefined, live],
      [2, live.slice(1)],
    ] as const) {
      const pages = await reader.requestPages({ action: 'history', channel, id: 'big', limit });

      expect(pages.length, `limit ${limit}`).toBe(expected.length);
      expect(pages.map((page) => page.more)).toEqual([...pages.slice(1).map(() => true), false]);
      for (const page of pages) {
        expect(page).toEqual({
          type: 'history',
          id: 'big',
          channel,
          position: { offset: 3, epoch: live[0].epoch },
          publications: expect.any(Array),
          more: page.more,
        });
        expect(page.publications).toHaveLength(1);
        expect(reader.byteLength(page)).toBeLessThanOrEqual(MAX_FRAME_BYTES);
      }
      expect(pages.flatMap((page) => page.publications)).toEqual(expected);
    }
    expect(await reader.settle(300)).toEqual([]);
    await Promise.all([witness.close(), reader.close()]);
  });
});

describe('idempotent publishing over WebSocket', () => {
  it("a repeated key is acked with the first publication's id and offset, duplicate true, and delivered once", async () => {
    const channel = unique('chat:idem-');
    const subscriber = await witnessOf(server, channel);
    const publisher = await connectUser(server, { sub: 'publisher' });
    const other = await connectUser(server, { sub: 'other' });

    const first = await publisher.request({ action: 'publish', channel, data: 'once', idempotencyKey: 'k1', id: 'p1' });
    const repeat = await publisher.request({
      action: 'publish',
      channel,
      data: 'twice',
      idempotencyKey: 'k1',
      id: 'p2',
    });
    // The key belongs to the channel: another connection repeating it is a repeat too.
    const elsewhere = await other.request({
      action: 'publish',
      channel,
      data: 'thrice',
      idempotencyKey: 'k1',
      id: 'p3',
    });
    const unkeyed = await publisher.request({ action: 'publish', channel, data: 'next', id: 'p4' });

    expect(first).toEqual({ type: 'ack', id: 'p1', channel, messageId: expect.any(String), offset: 1 });
    const duplicateOf = { channel, messageId: first.messageId, offset: 1, duplicate: true };
    expect(repeat).toEqual({ type: 'ack', id: 'p2', ...duplicateOf });
    expect(elsewhere).toEqual({ type: 'ack', id: 'p3', ...duplicateOf });
    // A repeat takes no offset: the stream has no gap.
    expect(unkeyed).toEqual({ type: 'ack', id: 'p4', channel, messageId: expect.any(String), offset: 2 });
    const received = await liveMessages(subscriber, channel, 2);
    expect(received.map(({ id, data, offset }) => ({ id, data, offset }))).toEqual([
      { id: first.messageId, data: 'once', offset: 1 },
      { id: unkeyed.messageId, data: 'next', offset: 2 },
    ]);
    expect(await subscriber.settle(500)).toEqual([]);
    const [page] = await publisher.requestPages({ action: 'history', channel, id: 'h' });
    expect(page.publications).toEqual(received);
    await Promise.all([subscriber.close(), publisher.close(), other.close()]);
  });

  it('the same key on another channel is a new publication there', async () => {
    const [one, two] = [unique('chat:idem-a-'), unique('chat:idem-b-')];
    const publisher = await connectUser(server, { sub: 'publisher' });
    const subscriber = await connectUser(server, { sub: 'subscriber' });
    await subscriber.request({ action: 'subscribe', channel: two });

    const first = await publisher.request({ action: 'publish', channel: one, data: 1, idempotencyKey: 'shared' });
    const second = await publisher.request({ action: 'publish', channel: two, data: 2, idempotencyKey: 'shared' });

    expect(second).toEqual({
      type: 'ack',
      id: expect.any(String),
      channel: two,
      messageId: expect.any(String),
      offset: 1,
    });
    expect(second.messageId).not.toBe(first.messageId);
    expect(await subscriber.next()).toMatchObject({ type: 'message', channel: two, id: second.messageId, data: 2 });
    expect(await subscriber.settle(300)).toEqual([]);
    await Promise.all([publisher.close(), subscriber.close()]);
  });

  it('a key is shared by both transports: the server API and WebSocket see each other’s publications', async () => {
    const channel = unique('chat:idem-both-');
    const subscriber = await witnessOf(server, channel);
    const publisher = await connectUser(server, { sub: 'publisher' });
    const path = `/channels/${channel}/messages`;

    const viaApi = await callServerApi(server, 'POST', path, { data: 'api', idempotencyKey: 'from-api' });
    const wsRepeat = await publisher.request({ action: 'publish', channel, data: 'ws', idempotencyKey: 'from-api' });
    const viaWs = await publisher.request({ action: 'publish', channel, data: 'ws', idempotencyKey: 'from-ws' });
    const apiRepeat = await callServerApi(server, 'POST', path, { data: 'api', idempotencyKey: 'from-ws' });

    expect(viaApi).toEqual({
      status: 202,
      body: { messageId: expect.any(String), offset: 1, delivered: 1, gone: 0, failed: 0 },
    });
    expect(wsRepeat).toMatchObject({ type: 'ack', messageId: viaApi.body.messageId, offset: 1, duplicate: true });
    expect(viaWs).toEqual({ type: 'ack', id: expect.any(String), channel, messageId: expect.any(String), offset: 2 });
    expect(apiRepeat).toEqual({
      status: 202,
      body: { messageId: viaWs.messageId, offset: 2, delivered: 0, gone: 0, failed: 0, duplicate: true },
    });
    expect(offsetsOf(await liveMessages(subscriber, channel, 2))).toEqual([1, 2]);
    expect(await subscriber.settle(500)).toEqual([]);
    await Promise.all([subscriber.close(), publisher.close()]);
  });

  it.each([
    ['of 65 characters', 'k'.repeat(65)],
    ['that is empty', ''],
    ['that is a number', 42],
  ])('a key %s is invalid_request and publishes nothing', async (_name, idempotencyKey) => {
    const channel = unique('chat:idem-bad-');
    const subscriber = await witnessOf(server, channel);
    const publisher = await connectUser(server, { sub: 'publisher' });

    expect(await publisher.request({ action: 'publish', channel, data: 'x', idempotencyKey, id: 'bad' })).toEqual(
      invalidRequest('bad'),
    );
    // The refused publish took no offset: the next one is the channel's first.
    const ok = await publisher.request({ action: 'publish', channel, data: 'y', idempotencyKey: 'k'.repeat(64) });
    expect(ok).toMatchObject({ type: 'ack', offset: 1 });
    expect(await subscriber.next()).toMatchObject({ type: 'message', id: ok.messageId, data: 'y' });
    expect(await subscriber.settle(300)).toEqual([]);
    await Promise.all([subscriber.close(), publisher.close()]);
  });
});
