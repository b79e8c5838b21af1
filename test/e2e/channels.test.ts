import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevServer } from '../../src/local/dev-server.js';
import {
  connectTo,
  connectUser,
  startChannelServer,
  type TableReader,
  tableReader,
  unique,
} from '../helpers/dev-server.js';

// Protocol v1 end to end: real `ws` clients, the authorizer, the handlers in their sandboxes,
// DynamoDB and @connections, as `npm run dev` runs them (stage local: anonymous allowed).
describe('channels end to end: subscribe, publish, unsubscribe', () => {
  let server: DevServer;
  let table: TableReader;

  beforeAll(async () => {
    server = await startChannelServer();
    table = tableReader(server);
  });
  afterAll(async () => {
    table.destroy();
    await server?.close();
  });

  it('two users chat in a channel: each message names its user, and a third connection not subscribed gets nothing', async () => {
    const channel = unique('chat:lobby-');
    const alice = await connectUser(server, { sub: 'alice', info: { name: 'Alice', avatar: 'a.png' } });
    const bob = await connectUser(server, { sub: 'bob', info: { name: 'Bob' } });
    const carol = await connectUser(server, { sub: 'carol' });

    const subscribed = await alice.request({ action: 'subscribe', channel, id: 's1' });
    expect(subscribed).toEqual({
      type: 'subscribed',
      id: 's1',
      channel,
      position: { offset: 0, epoch: expect.any(String) },
    });
    const { epoch } = subscribed.position;
    expect(await bob.request({ action: 'subscribe', channel })).toMatchObject({ type: 'subscribed', channel });
    // chat has join/leave: alice hears bob join, with who he is.
    expect(await alice.next()).toEqual({
      type: 'join',
      channel,
      member: { connectionId: bob.connectionId, userId: 'bob', info: { name: 'Bob' } },
    });

    const ack = await alice.request({ action: 'publish', channel, data: { text: 'hi bob' }, id: 'p1' });
    expect(ack).toEqual({ type: 'ack', id: 'p1', channel, messageId: expect.any(String), offset: 1 });
    const atBob = await bob.next();
    const atAlice = await alice.next();
    expect(atBob).toEqual({
      type: 'message',
      channel,
      id: ack.messageId,
      data: { text: 'hi bob' },
      from: alice.connectionId,
      user: { id: 'alice', info: { name: 'Alice', avatar: 'a.png' } },
      ts: expect.any(Number),
      offset: 1,
      epoch,
    });
    expect(Math.abs(atBob.ts - Date.now())).toBeLessThan(10_000);
    expect(atAlice).toEqual(atBob);

    const reply = await bob.request({ action: 'publish', channel, data: 'hi alice' });
    expect(reply).toMatchObject({ type: 'ack', channel });
    expect(await alice.next()).toMatchObject({
      type: 'message',
      channel,
      id: reply.messageId,
      data: 'hi alice',
      from: bob.connectionId,
      user: { id: 'bob', info: { name: 'Bob' } },
    });
    expect(await bob.next()).toMatchObject({ id: reply.messageId, user: { id: 'bob' } });

    expect(await carol.settle(500)).toEqual([]);
    expect(await alice.settle(0)).toEqual([]);
    expect(await bob.settle(0)).toEqual([]);
    await Promise.all([alice.close(), bob.close(), carol.close()]);
  });

  it('a publisher not subscribed gets the ack only; the subscribers get the message', async () => {
    const channel = unique('chat:room-');
    const reader = await connectUser(server, { sub: 'reader' });
    const writer = await connectUser(server, { sub: 'writer' });
    await reader.request({ action: 'subscribe', channel });

    const ack = await writer.request({ action: 'publish', channel, data: [1, 2, 3] });

    expect(ack).toMatchObject({ type: 'ack', channel, messageId: expect.any(String) });
    expect(await reader.next()).toMatchObject({ type: 'message', channel, id: ack.messageId, data: [1, 2, 3] });
    expect(await writer.settle(500)).toEqual([]);
    await Promise.all([reader.close(), writer.close()]);
  });

  it('a repeated subscribe is fine and delivers once; unsubscribe stops delivery; unsubscribing twice is fine', async () => {
    const channel = unique('chat:twice-');
    const member = await connectUser(server, { sub: 'member' });
    const publisher = await connectUser(server, { sub: 'publisher' });

    const first = await member.request({ action: 'subscribe', channel, id: 'a' });
    expect(first).toEqual({ type: 'subscribed', id: 'a', channel, position: { offset: 0, epoch: expect.any(String) } });
    expect(await member.request({ action: 'subscribe', channel, id: 'b' })).toEqual({
      type: 'subscribed',
      id: 'b',
      channel,
      position: first.position,
    });
    await publisher.request({ action: 'publish', channel, data: 'once' });
    expect(await member.next()).toMatchObject({ type: 'message', data: 'once' });
    expect(await member.settle(300)).toEqual([]);

    expect(await member.request({ action: 'unsubscribe', channel, id: 'c' })).toEqual({
      type: 'unsubscribed',
      id: 'c',
      channel,
    });
    expect(await member.request({ action: 'unsubscribe', channel, id: 'd' })).toEqual({
      type: 'unsubscribed',
      id: 'd',
      channel,
    });
    const never = unique('chat:never-');
    expect(await member.request({ action: 'unsubscribe', channel: never, id: 'e' })).toEqual({
      type: 'unsubscribed',
      id: 'e',
      channel: never,
    });
    expect(await publisher.request({ action: 'publish', channel, data: 'after' })).toMatchObject({ type: 'ack' });
    expect(await member.settle(500)).toEqual([]);
    await Promise.all([member.close(), publisher.close()]);
  });

  it('sendmessage still broadcasts to the default channel, naming the user, with no ack', async () => {
    const alice = await connectUser(server, { sub: 'alice', info: { name: 'Alice' } });
    const guest = await connectTo(server);

    alice.send({ action: 'sendmessage', data: { text: 'hello everyone' } });

    const atGuest = await guest.next();
    expect(atGuest).toEqual({
      type: 'message',
      channel: 'default',
      id: expect.any(String),
      data: { text: 'hello everyone' },
      from: alice.connectionId,
      user: { id: 'alice', info: { name: 'Alice' } },
      ts: expect.any(Number),
      // default is shared with every other test: its offset is whatever it has reached.
      offset: expect.any(Number),
      epoch: expect.any(String),
    });
    expect(await alice.next()).toEqual(atGuest);
    expect(await alice.settle(300)).toEqual([]);
    await Promise.all([alice.close(), guest.close()]);
  });

  it('anonymous connections have user null, may use the default channel, and are forbidden elsewhere', async () => {
    const guest = await connectTo(server);
    const other = await connectTo(server);

    expect(await guest.request({ action: 'subscribe', channel: 'default', id: 'd' })).toEqual({
      type: 'subscribed',
      id: 'd',
      channel: 'default',
      position: { offset: expect.any(Number), epoch: expect.any(String) },
    });
    const ack = await guest.request({ action: 'publish', channel: 'default', data: 'anon', id: 'p' });
    expect(ack).toEqual({
      type: 'ack',
      id: 'p',
      channel: 'default',
      messageId: expect.any(String),
      offset: expect.any(Number),
    });
    expect(await other.next()).toMatchObject({
      type: 'message',
      channel: 'default',
      id: ack.messageId,
      from: guest.connectionId,
      user: null,
    });
    expect(await guest.next()).toMatchObject({ id: ack.messageId, user: null });

    const channel = unique('chat:x-');
    expect(await guest.request({ action: 'subscribe', channel, id: 's' })).toEqual({
      type: 'error',
      id: 's',
      code: 'forbidden',
      message: expect.any(String),
    });
    expect(await guest.request({ action: 'publish', channel, data: 1, id: 'q' })).toEqual({
      type: 'error',
      id: 'q',
      code: 'forbidden',
      message: expect.any(String),
    });
    expect(await other.settle(300)).toEqual([]);
    await Promise.all([guest.close(), other.close()]);
  });

  it('ping gets pong with the same id', async () => {
    const client = await connectTo(server);
    expect(await client.request({ action: 'ping', id: 'ping-1' })).toEqual({ type: 'pong', id: 'ping-1' });
    client.send({ action: 'ping' });
    expect(await client.next()).toEqual({ type: 'pong' });
    await client.close();
  });

  it('a disconnect removes every membership and the connection record', async () => {
    const [first, second] = [unique('chat:a-'), unique('chat:b-')];
    const client = await connectUser(server, { sub: 'leaver' });
    await client.request({ action: 'subscribe', channel: first });
    await client.request({ action: 'subscribe', channel: second });
    const id = client.connectionId;

    expect(await table.channelsOf(id)).toEqual(['default', first, second, 'user:leaver'].sort());
    for (const channel of ['default', 'user:leaver', first, second]) expect(await table.members(channel)).toContain(id);

    await client.close();

    await expect.poll(() => table.channelsOf(id), { timeout: 10_000 }).toBeUndefined();
    for (const channel of ['default', 'user:leaver', first, second]) {
      await expect.poll(() => table.members(channel), { timeout: 10_000 }).not.toContain(id);
    }
  });

  it('every publication takes the next offset of its channel: acks and deliveries agree, subscribed tells the last one', async () => {
    const channel = unique('chat:offsets-');
    const reader = await connectUser(server, { sub: 'reader' });
    const writer = await connectUser(server, { sub: 'writer' });
    const { position } = await reader.request({ action: 'subscribe', channel });
    expect(position).toEqual({ offset: 0, epoch: expect.any(String) });

    const acks = [];
    for (const data of ['one', 'two', 'three']) acks.push(await writer.request({ action: 'publish', channel, data }));
    // Deliveries of consecutive publications run concurrently: they may arrive in any order.
    const messages = [await reader.next(), await reader.next(), await reader.next()];

    expect(acks.map((ack) => ack.offset)).toEqual([1, 2, 3]);
    const byOffset = [...messages].sort((a, b) => a.offset - b.offset);
    expect(byOffset.map(({ offset, epoch, data }) => ({ offset, epoch, data }))).toEqual([
      { offset: 1, epoch: position.epoch, data: 'one' },
      { offset: 2, epoch: position.epoch, data: 'two' },
      { offset: 3, epoch: position.epoch, data: 'three' },
    ]);
    expect(byOffset.map((message) => message.id)).toEqual(acks.map((ack) => ack.messageId));
    const late = await connectUser(server, { sub: 'late' });
    expect(await late.request({ action: 'subscribe', channel })).toMatchObject({
      position: { offset: 3, epoch: position.epoch },
    });
    // An unrelated channel counts on its own.
    const other = unique('chat:other-');
    expect(await writer.request({ action: 'publish', channel: other, data: 'x' })).toMatchObject({ offset: 1 });
    await Promise.all([reader.close(), writer.close(), late.close()]);
  });

  it('unsubscribe removes the membership from the channel and from the connection record', async () => {
    const channel = unique('chat:c-');
    const client = await connectUser(server, { sub: 'tidy' });
    await client.request({ action: 'subscribe', channel });
    expect(await table.members(channel)).toEqual([client.connectionId]);

    await client.request({ action: 'unsubscribe', channel });

    expect(await table.members(channel)).toEqual([]);
    expect(await table.channelsOf(client.connectionId)).toEqual(['default', 'user:tidy']);
    await client.close();
  });
});
