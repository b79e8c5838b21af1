import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevServer } from '../../src/local/dev-server.js';
import { callServerApi, connectTo, connectUser, startChannelServer, unique } from '../helpers/dev-server.js';
import { within } from '../helpers/ws-client.js';

/** A fresh channel's first publication is at offset 1. */
const accepted = (delivered: number, offset = 1) => ({
  messageId: expect.any(String),
  offset,
  delivered,
  gone: 0,
  failed: 0,
});

// The server API as a backend calls it under `npm run dev` (no PUBLISH_TOKEN there: open).
describe('the server API reaches channels, users and connections', () => {
  let server: DevServer;

  beforeAll(async () => {
    server = await startChannelServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('POST /channels/{channel}/messages reaches the subscribers only, from null and user null', async () => {
    const channel = unique('chat:lobby-');
    const alice = await connectUser(server, { sub: 'alice' });
    const bob = await connectUser(server, { sub: 'bob' });
    const outsider = await connectUser(server, { sub: 'outsider' });
    await alice.request({ action: 'subscribe', channel });
    await bob.request({ action: 'subscribe', channel });

    const response = await callServerApi(server, 'POST', `/channels/${channel}/messages`, { data: { text: 'news' } });

    expect(response).toEqual({ status: 202, body: accepted(2) });
    const expected = {
      type: 'message',
      channel,
      id: response.body.messageId,
      data: { text: 'news' },
      from: null,
      user: null,
      ts: expect.any(Number),
      offset: 1,
      epoch: expect.any(String),
    };
    // chat has joinLeave: alice heard bob join first.
    expect(await alice.next()).toMatchObject({ type: 'join', channel, member: { userId: 'bob' } });
    expect(await alice.next()).toEqual(expected);
    expect(await bob.next()).toEqual(expected);
    expect(await outsider.settle(500)).toEqual([]);
    await Promise.all([alice.close(), bob.close(), outsider.close()]);
  });

  it('a channel nobody subscribed to is accepted with nothing delivered', async () => {
    const response = await callServerApi(server, 'POST', `/channels/${unique('chat:empty-')}/messages`, { data: 1 });
    expect(response).toEqual({ status: 202, body: accepted(0) });
  });

  it.each([
    ['a space', 'chat%20lobby'],
    ['a character outside the set', 'chat%23lobby'],
    ['129 characters', 'c'.repeat(129)],
  ])('a channel name with %s is a 400, and the API goes on', async (_name, encoded) => {
    const response = await callServerApi(server, 'POST', `/channels/${encoded}/messages`, { data: 1 });
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body)).toMatch(/channel/i);
    expect((await callServerApi(server, 'POST', `/channels/${unique('chat:')}/messages`, { data: 1 })).status).toBe(
      202,
    );
  });

  it('POST /users/{userId}/messages reaches every connection of that user and nobody else', async () => {
    const [alice, bob] = [unique('alice-'), unique('bob-')];
    const phone = await connectUser(server, { sub: alice });
    const laptop = await connectUser(server, { sub: alice });
    const other = await connectUser(server, { sub: bob });
    const guest = await connectTo(server);

    const response = await callServerApi(server, 'POST', `/users/${alice}/messages`, { data: { note: 'for you' } });

    expect(response).toEqual({ status: 202, body: accepted(2) });
    for (const client of [phone, laptop]) {
      expect(await client.next()).toEqual({
        type: 'message',
        channel: `user:${alice}`,
        id: response.body.messageId,
        data: { note: 'for you' },
        from: null,
        user: null,
        ts: expect.any(Number),
        offset: 1,
        epoch: expect.any(String),
      });
    }
    expect(await other.settle(500)).toEqual([]);
    expect(await guest.settle(0)).toEqual([]);
    await Promise.all([phone.close(), laptop.close(), other.close(), guest.close()]);
  });

  it('POST /messages still broadcasts to the default channel: every connection gets it', async () => {
    const named = await connectUser(server, { sub: unique('named-') });
    const guest = await connectTo(server);

    const response = await callServerApi(server, 'POST', '/messages', { data: 'to all' });

    expect(response.status).toBe(202);
    // Connections closed by earlier tests may still be leaving (gone); at least these two are there.
    expect(response.body).toMatchObject({ messageId: expect.any(String), failed: 0 });
    expect(response.body.delivered).toBeGreaterThanOrEqual(2);
    for (const client of [named, guest]) {
      expect(await client.next()).toMatchObject({
        type: 'message',
        channel: 'default',
        id: response.body.messageId,
        data: 'to all',
        from: null,
        user: null,
      });
    }
    await Promise.all([named.close(), guest.close()]);
  });

  it('DELETE /connections/{id} closes that socket only; a second DELETE is a client error', async () => {
    const target = await connectUser(server, { sub: unique('kicked-') });
    const bystander = await connectUser(server, { sub: unique('stays-') });

    const response = await callServerApi(server, 'DELETE', `/connections/${encodeURIComponent(target.connectionId)}`);

    expect(response.status).toBeGreaterThanOrEqual(200);
    expect(response.status).toBeLessThan(300);
    // Through the Management API's DeleteConnection, which the emulator (as API Gateway) closes with 1000.
    expect((await within(target.closed, 5000, 'the socket closing')).code).toBe(1000);
    expect(await bystander.request({ action: 'ping', id: 'still' })).toEqual({ type: 'pong', id: 'still' });

    const again = await callServerApi(server, 'DELETE', `/connections/${encodeURIComponent(target.connectionId)}`);
    expect(again.status).toBeGreaterThanOrEqual(400);
    expect(again.status).toBeLessThan(500);
    await bystander.close();
  });

  it('a publish with no data is a 400', async () => {
    const response = await callServerApi(server, 'POST', `/channels/${unique('chat:')}/messages`, {});
    expect(response.status).toBe(400);
  });
});

/** The offsets of a history body's publications, in the order sent. */
const offsetsOf = (body: { publications: { offset: number }[] }) => body.publications.map(({ offset }) => offset);

// Issue 12 on the server API: idempotent publish, history with pages, presence, through the real relay and table.
describe('the server API keeps publications, answers repeats once, and lists who is there', () => {
  let server: DevServer;

  beforeAll(async () => {
    server = await startChannelServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  /** Publishes each of `data` to `channel` in turn through the server API. */
  const publishAll = async (channel: string, data: unknown[]) => {
    for (const item of data) {
      expect((await callServerApi(server, 'POST', `/channels/${channel}/messages`, { data: item })).status).toBe(202);
    }
  };
  /** Every page of `path`, following `next` to the last. */
  const historyPages = async (path: string) => {
    const pages: { body: any; bytes: number }[] = [];
    for (let next: string | undefined = path; next !== undefined; next = pages.at(-1)!.body.next) {
      const response = await callServerApi(server, 'GET', next);
      expect(response.status).toBe(200);
      // The body is compact JSON of compact frames: serialising it again gives back its size.
      pages.push({ body: response.body, bytes: Buffer.byteLength(JSON.stringify(response.body)) });
    }
    return pages;
  };

  describe('idempotencyKey', () => {
    it('the same key twice: one publication, the same offset and messageId, duplicate: true; delivered once', async () => {
      // Arrange
      const channel = unique('chat:orders-');
      const subscriber = await connectUser(server, { sub: unique('shop-') });
      await subscriber.request({ action: 'subscribe', channel });
      const body = { data: { order: 42 }, idempotencyKey: 'order-42' };

      // Act
      const first = await callServerApi(server, 'POST', `/channels/${channel}/messages`, body);
      const repeat = await callServerApi(server, 'POST', `/channels/${channel}/messages`, body);

      // Assert
      expect(first).toEqual({ status: 202, body: accepted(1) });
      expect(repeat).toEqual({
        status: 202,
        body: { messageId: first.body.messageId, offset: 1, delivered: 0, gone: 0, failed: 0, duplicate: true },
      });
      expect(await subscriber.next()).toMatchObject({ type: 'message', id: first.body.messageId, offset: 1 });
      expect(await subscriber.settle(500)).toEqual([]);
      const history = await callServerApi(server, 'GET', `/channels/${channel}/history`);
      expect(offsetsOf(history.body)).toEqual([1]);
      await subscriber.close();
    });

    it('the same key on another channel is a publication of its own', async () => {
      const [one, other] = [unique('chat:keyed-'), unique('chat:keyed-')];
      const body = { data: 'hello', idempotencyKey: 'shared-key' };

      const first = await callServerApi(server, 'POST', `/channels/${one}/messages`, body);
      const second = await callServerApi(server, 'POST', `/channels/${other}/messages`, body);

      expect(first).toEqual({ status: 202, body: accepted(0) });
      expect(second).toEqual({ status: 202, body: accepted(0) });
      expect(second.body.messageId).not.toBe(first.body.messageId);
    });

    it('a repeat on a personal channel reaches the user once', async () => {
      const user = unique('buyer-');
      const phone = await connectUser(server, { sub: user });
      const body = { data: 'receipt', idempotencyKey: unique('receipt-') };

      const first = await callServerApi(server, 'POST', `/users/${user}/messages`, body);
      const repeat = await callServerApi(server, 'POST', `/users/${user}/messages`, body);

      expect(first).toEqual({ status: 202, body: accepted(1) });
      expect(repeat.body).toMatchObject({ messageId: first.body.messageId, offset: 1, duplicate: true });
      expect(await phone.next()).toMatchObject({ id: first.body.messageId, data: 'receipt' });
      expect(await phone.settle(500)).toEqual([]);
      await phone.close();
    });

    it('a key of 65 characters is a 400 naming the field', async () => {
      const response = await callServerApi(server, 'POST', `/channels/${unique('chat:')}/messages`, {
        data: 1,
        idempotencyKey: 'k'.repeat(65),
      });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({
        error: 'invalid_request',
        message: expect.stringMatching(/idempotencyKey/),
      });
    });
  });

  describe('GET /channels/{channel}/history', () => {
    it('lists the publications oldest first, as subscribers received them, with the position', async () => {
      // Arrange
      const channel = unique('chat:log-');
      const listener = await connectUser(server, { sub: unique('listener-') });
      await listener.request({ action: 'subscribe', channel });
      await publishAll(channel, ['one', 'two', 'three']);
      const received = [await listener.next(), await listener.next(), await listener.next()];

      // Act
      const response = await callServerApi(server, 'GET', `/channels/${channel}/history`);

      // Assert
      expect(response).toEqual({
        status: 200,
        body: { channel, position: { offset: 3, epoch: received[0].epoch }, publications: received },
      });
      await listener.close();
    });

    it('limit takes the latest; since with the epoch only the later ones; another epoch reads from the start', async () => {
      const channel = unique('chat:ranges-');
      await publishAll(channel, [1, 2, 3, 4, 5]);
      const { epoch } = (await callServerApi(server, 'GET', `/channels/${channel}/history?limit=1`)).body.position;

      const latest = await callServerApi(server, 'GET', `/channels/${channel}/history?limit=2`);
      const after = await callServerApi(server, 'GET', `/channels/${channel}/history?since=3&epoch=${epoch}`);
      const stale = await callServerApi(server, 'GET', `/channels/${channel}/history?since=3&epoch=not-${epoch}`);

      expect(offsetsOf(latest.body)).toEqual([4, 5]);
      expect(offsetsOf(after.body)).toEqual([4, 5]);
      expect(offsetsOf(stale.body)).toEqual([1, 2, 3, 4, 5]);
      expect(stale.body.position).toEqual({ offset: 5, epoch });
    });

    it('an unknown channel is an empty list with its position', async () => {
      const channel = unique('chat:never-');
      const response = await callServerApi(server, 'GET', `/channels/${channel}/history`);
      expect(response).toEqual({
        status: 200,
        body: { channel, position: { offset: 0, epoch: expect.any(String) }, publications: [] },
      });
    });

    it('a namespace that keeps no history answers an empty list at the current position', async () => {
      const channel = unique('plain:');
      await publishAll(channel, ['gone']);
      const response = await callServerApi(server, 'GET', `/channels/${channel}/history`);
      expect(response.body).toEqual({ channel, position: { offset: 1, epoch: expect.any(String) }, publications: [] });
    });

    it.each([
      ['limit over historySize (100)', 'limit=101', /historySize/],
      ['limit 0', 'limit=0', /"limit"/],
      ['since without epoch', 'since=1', /"since" and "epoch"/],
    ])('%s is a 400 invalid_request, and the API goes on', async (_name, query, message) => {
      const channel = unique('chat:bad-query-');
      const response = await callServerApi(server, 'GET', `/channels/${channel}/history?${query}`);
      expect(response).toEqual({
        status: 400,
        body: { error: 'invalid_request', message: expect.stringMatching(message) },
      });
      expect((await callServerApi(server, 'GET', `/channels/${channel}/history`)).status).toBe(200);
    });

    it('over 128 KB comes in pages of at most 128 KB; following next gives every publication once, in order', async () => {
      // Arrange: 8 messages of 40 KB, 320 KB in all.
      const channel = unique('chat:large-');
      await publishAll(
        channel,
        Array.from({ length: 8 }, (_, i) => ({ n: i + 1, text: 'x'.repeat(40 * 1024) })),
      );

      // Act
      const pages = await historyPages(`/channels/${channel}/history`);

      // Assert
      expect(pages.length).toBeGreaterThanOrEqual(3);
      for (const { bytes } of pages) expect(bytes).toBeLessThanOrEqual(128 * 1024);
      expect(pages.flatMap(({ body }) => offsetsOf(body))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(pages.flatMap(({ body }) => body.publications.map((frame: any) => frame.data.n))).toEqual([
        1, 2, 3, 4, 5, 6, 7, 8,
      ]);
    });
  });

  describe('GET /channels/{channel}/presence', () => {
    it('lists the subscribed connections with their userId and info, and not the others', async () => {
      // Arrange
      const channel = unique('chat:room-');
      const [aliceId, bobId] = [unique('alice-'), unique('bob-')];
      const alice = await connectUser(server, { sub: aliceId, info: { name: 'Alice' } });
      const bob = await connectUser(server, { sub: bobId });
      const outsider = await connectUser(server, { sub: unique('outsider-') });
      await alice.request({ action: 'subscribe', channel });
      await bob.request({ action: 'subscribe', channel });

      // Act
      const response = await callServerApi(server, 'GET', `/channels/${channel}/presence`);

      // Assert
      expect(response.status).toBe(200);
      expect(response.body.channel).toBe(channel);
      const byConnection = (a: { connectionId: string }, b: { connectionId: string }) =>
        a.connectionId.localeCompare(b.connectionId);
      expect([...response.body.members].sort(byConnection)).toEqual(
        [
          { connectionId: alice.connectionId, userId: aliceId, info: { name: 'Alice' } },
          { connectionId: bob.connectionId, userId: bobId, info: null },
        ].sort(byConnection),
      );
      await Promise.all([alice.close(), bob.close(), outsider.close()]);
    });

    it('a connection that unsubscribed is no longer listed', async () => {
      const channel = unique('chat:leaving-');
      const stays = await connectUser(server, { sub: unique('stays-') });
      const leaves = await connectUser(server, { sub: unique('leaves-') });
      await stays.request({ action: 'subscribe', channel });
      await leaves.request({ action: 'subscribe', channel });
      await leaves.request({ action: 'unsubscribe', channel });

      const response = await callServerApi(server, 'GET', `/channels/${channel}/presence`);

      expect(response.body.members.map((member: { connectionId: string }) => member.connectionId)).toEqual([
        stays.connectionId,
      ]);
      await Promise.all([stays.close(), leaves.close()]);
    });

    it('a namespace without presence is a 403 forbidden', async () => {
      const response = await callServerApi(server, 'GET', `/channels/${unique('plain:')}/presence`);
      expect(response).toEqual({ status: 403, body: { error: 'forbidden', message: expect.any(String) } });
    });

    it('a channel name of 129 characters is a 400 invalid_channel', async () => {
      const response = await callServerApi(server, 'GET', `/channels/${'c'.repeat(129)}/presence`);
      expect(response).toMatchObject({ status: 400, body: { error: 'invalid_channel' } });
    });
  });
});
