import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevServer } from '../../src/local/dev-server.js';
import { connectUser, type ServerClient, startChannelServer, unique } from '../helpers/dev-server.js';
import type { TestClient } from '../helpers/ws-client.js';

interface Member {
  connectionId: string;
  userId: string | null;
  info: Record<string, unknown> | null;
}

const forbidden = (id: string) => ({ type: 'error', id, code: 'forbidden', message: expect.any(String) });
const byConnectionId = (members: Member[]) => [...members].sort((a, b) => a.connectionId.localeCompare(b.connectionId));
const memberOf = (client: ServerClient, userId: string, info: Member['info'] = null): Member => ({
  connectionId: client.connectionId,
  userId,
  info,
});
const join = (channel: string, member: Member) => ({ type: 'join', channel, member });
const leave = (channel: string, member: Member) => ({ type: 'leave', channel, member });

/** The members a presence request lists (one page expected: these rooms are small), in connection id order. */
async function presenceOf(client: TestClient, channel: string): Promise<Member[]> {
  const pages = await client.requestPages({ action: 'presence', channel });
  expect(pages).toEqual([
    { type: 'presence', id: expect.any(String), channel, members: expect.any(Array), more: false },
  ]);
  return byConnectionId(pages[0].members);
}

async function subscribe(channel: string, ...clients: TestClient[]): Promise<void> {
  for (const client of clients) {
    expect(await client.request({ action: 'subscribe', channel })).toMatchObject({ type: 'subscribed', channel });
  }
}

/** The next join or leave frame of `channel` at `client`; other frames stay queued. */
function nextEvent(client: TestClient, channel: string, timeoutMs = 5000): Promise<any> {
  return client.nextMatching(
    (frame) => (frame.type === 'join' || frame.type === 'leave') && frame.channel === channel,
    timeoutMs,
    `join or leave on ${channel}`,
  );
}

// Presence and join/leave in the `chat` namespace (presence and joinLeave on), over real sockets.
// Nothing here publishes to `default` or personal channels: every frame received is accounted for.
// The tests share one server; each uses channels of its own.
let server: DevServer;

beforeAll(async () => {
  server = await startChannelServer();
});
afterAll(async () => {
  await server?.close();
});

describe('presence', () => {
  it('lists each subscribed connection with its user id and info, to anyone holding the capability', async () => {
    const channel = unique('chat:room-');
    const alice = await connectUser(server, { sub: 'alice', info: { name: 'Alice' } });
    const bobPhone = await connectUser(server, { sub: 'bob' });
    const bobLaptop = await connectUser(server, { sub: 'bob', info: { name: 'Bob', device: 'laptop' } });
    const outsider = await connectUser(server, { sub: 'outsider' });
    await subscribe(channel, alice, bobPhone, bobLaptop);
    const everyone = byConnectionId([
      memberOf(alice, 'alice', { name: 'Alice' }),
      memberOf(bobPhone, 'bob'),
      memberOf(bobLaptop, 'bob', { name: 'Bob', device: 'laptop' }),
    ]);

    expect(await presenceOf(alice, channel)).toEqual(everyone);
    // Asking needs the presence capability, not a subscription.
    expect(await presenceOf(outsider, channel)).toEqual(everyone);

    await bobPhone.request({ action: 'unsubscribe', channel });
    expect(await presenceOf(outsider, channel)).toEqual(
      everyone.filter((m) => m.connectionId !== bobPhone.connectionId),
    );
    expect(await outsider.settle(300)).toEqual([]);
    await Promise.all([alice.close(), bobPhone.close(), bobLaptop.close(), outsider.close()]);
  });

  it('a channel nobody is in has no members', async () => {
    const client = await connectUser(server, { sub: 'lonely' });
    expect(await presenceOf(client, unique('chat:empty-'))).toEqual([]);
    await client.close();
  });

  it('is forbidden without the presence capability, even to a member', async () => {
    const channel = unique('chat:closed-');
    const member = await connectUser(server, { sub: 'member', channels: { 'chat:*': ['subscribe', 'publish'] } });
    await subscribe(channel, member);

    expect(await member.request({ action: 'presence', channel, id: 'who' })).toEqual(forbidden('who'));
    expect(await member.settle(300)).toEqual([]);
    await member.close();
  });

  it('is forbidden in a namespace without presence, whatever the capabilities', async () => {
    const channel = unique('plain:x-');
    const member = await connectUser(server, { sub: 'member' });
    await subscribe(channel, member);

    expect(await member.request({ action: 'presence', channel, id: 'who' })).toEqual(forbidden('who'));
    expect(await member.settle(300)).toEqual([]);
    await member.close();
  });
});

describe('join and leave', () => {
  it('a new member is announced to every other member, not to itself, and once; an unsubscribe leaves once', async () => {
    const channel = unique('chat:joins-');
    const alice = await connectUser(server, { sub: 'alice' });
    const bob = await connectUser(server, { sub: 'bob', info: { name: 'Bob' } });
    const carol = await connectUser(server, { sub: 'carol', info: { name: 'Carol' } });
    const bobMember = memberOf(bob, 'bob', { name: 'Bob' });
    await subscribe(channel, alice);
    expect(await alice.settle(300)).toEqual([]);

    await subscribe(channel, bob);
    expect(await nextEvent(alice, channel)).toEqual(join(channel, bobMember));
    await subscribe(channel, carol);
    const carolJoined = join(channel, memberOf(carol, 'carol', { name: 'Carol' }));
    expect(await nextEvent(alice, channel)).toEqual(carolJoined);
    expect(await nextEvent(bob, channel)).toEqual(carolJoined);
    // Subscribing again is not joining again.
    await subscribe(channel, bob);
    expect(await Promise.all([alice.settle(300), bob.settle(0), carol.settle(0)])).toEqual([[], [], []]);

    expect(await bob.request({ action: 'unsubscribe', channel, id: 'u1' })).toMatchObject({ type: 'unsubscribed' });
    expect(await nextEvent(alice, channel)).toEqual(leave(channel, bobMember));
    expect(await nextEvent(carol, channel)).toEqual(leave(channel, bobMember));
    // No longer a member: a second unsubscribe announces nothing.
    expect(await bob.request({ action: 'unsubscribe', channel, id: 'u2' })).toMatchObject({ type: 'unsubscribed' });
    expect(await Promise.all([alice.settle(300), bob.settle(0), carol.settle(0)])).toEqual([[], [], []]);
    await Promise.all([alice.close(), bob.close(), carol.close()]);
  });

  it('a connection that closes normally leaves', async () => {
    const channel = unique('chat:close-');
    const alice = await connectUser(server, { sub: 'alice' });
    const carol = await connectUser(server, { sub: 'carol' });
    await subscribe(channel, alice, carol);
    expect(await nextEvent(alice, channel)).toEqual(join(channel, memberOf(carol, 'carol')));

    await carol.close();

    expect(await nextEvent(alice, channel, 10_000)).toEqual(leave(channel, memberOf(carol, 'carol')));
    expect(await presenceOf(alice, channel)).toEqual([memberOf(alice, 'alice')]);
    expect(await alice.settle(300)).toEqual([]);
    await alice.close();
  });

  it('a connection that vanishes without a close frame leaves once a publication went out, and presence forgets it', async () => {
    const channel = unique('chat:vanish-');
    const alice = await connectUser(server, { sub: 'alice' });
    const dave = await connectUser(server, { sub: 'dave', info: { name: 'Dave' } });
    const daveMember = memberOf(dave, 'dave', { name: 'Dave' });
    await subscribe(channel, alice, dave);
    expect(await nextEvent(alice, channel)).toEqual(join(channel, daveMember));

    // No close frame: as a phone that lost its network (the TCP connection just ends).
    dave.socket.terminate();
    const ack = await alice.request({ action: 'publish', channel, data: 'anyone there?' });

    expect(await alice.nextMatching((f) => f.type === 'message')).toMatchObject({ id: ack.messageId, offset: 1 });
    expect(await nextEvent(alice, channel, 10_000)).toEqual(leave(channel, daveMember));
    await expect.poll(() => presenceOf(alice, channel), { timeout: 10_000 }).toEqual([memberOf(alice, 'alice')]);
    // Whether $disconnect or the fan-out's GoneException found it first, the leave went out once.
    expect(await alice.settle(1000)).toEqual([]);
    await alice.close();
  });

  it('a namespace without joinLeave announces nobody', async () => {
    const channel = unique('plain:quiet-');
    const alice = await connectUser(server, { sub: 'alice' });
    const bob = await connectUser(server, { sub: 'bob' });
    await subscribe(channel, alice, bob);
    await bob.request({ action: 'unsubscribe', channel });
    await subscribe(channel, bob);
    await bob.close();

    expect(await alice.settle(1000)).toEqual([]);
    await alice.close();
  });
});
