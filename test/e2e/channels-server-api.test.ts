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
