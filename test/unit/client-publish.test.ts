import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient, MAX_FRAME_BYTES } from '../../src/client/index.js';
import { connectedClient, FakeWebSocket, messageAt, settle } from '../helpers/fake-websocket.js';

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
});
afterEach(() => vi.useRealTimers());

/** What a publish promise settled with, read without awaiting it (fake timers decide when). */
function outcome<T>(promise: Promise<T>) {
  const seen: { value?: T; error?: any } = {};
  promise.then(
    (value) => (seen.value = value),
    (error) => (seen.error = error),
  );
  return seen;
}

const ackFor = (frame: any, offset = 1) => ({
  type: 'ack',
  id: frame.id,
  channel: frame.channel,
  messageId: 'm',
  offset,
});

describe('publish', () => {
  it('resolves with the ack; every publish carries an idempotencyKey', async () => {
    const { client, socket } = await connectedClient();
    const result = outcome(client.publish('chat:a', { text: 'hi' }));
    const frame = socket.lastSent('publish');
    expect(frame).toMatchObject({ channel: 'chat:a', data: { text: 'hi' }, idempotencyKey: expect.any(String) });

    socket.receive(ackFor(frame, 42));
    await settle();

    expect(result.value).toEqual(ackFor(frame, 42));
  });

  it('keeps the idempotencyKey the caller gave', async () => {
    const { client, socket } = await connectedClient();
    void client.publish('chat:a', 1, { idempotencyKey: 'order-17' }).catch(() => {});
    expect(socket.lastSent('publish').idempotencyKey).toBe('order-17');
  });

  it('rejects with the error frame code and message', async () => {
    const { client, socket } = await connectedClient();
    const result = outcome(client.publish('chat:a', 1));

    socket.receive({ type: 'error', id: socket.lastSent('publish').id, code: 'forbidden', message: 'no publish' });
    await settle();

    expect(result.error).toMatchObject({ code: 'forbidden', message: 'no publish' });
  });

  it('rejects with code timeout when no ack comes within publishTimeoutMs', async () => {
    const { client } = await connectedClient({ publishTimeoutMs: 3000 });
    const result = outcome(client.publish('chat:a', 1));

    await vi.advanceTimersByTimeAsync(2999);
    expect(result).toEqual({});
    await vi.advanceTimersByTimeAsync(1);

    expect(result.error).toMatchObject({ code: 'timeout' });
  });

  it('a rejection carries the idempotencyKey it was sent with, to publish again without a duplicate', async () => {
    const { client, socket } = await connectedClient({ publishTimeoutMs: 3000 });
    const timedOut = outcome(client.publish('chat:a', 1));
    const refused = outcome(client.publish('chat:a', 2, { idempotencyKey: 'order-18' }));
    const sentKey = socket.sentOf('publish')[0].idempotencyKey;
    socket.receive({ type: 'error', id: socket.sentOf('publish')[1].id, code: 'forbidden', message: 'no' });

    await vi.advanceTimersByTimeAsync(3000);

    expect(timedOut.error).toMatchObject({ code: 'timeout', idempotencyKey: sentKey });
    expect(refused.error).toMatchObject({ code: 'forbidden', idempotencyKey: 'order-18' });
  });

  it('refuses locally a frame over 32 KB (browsers cannot fragment), sending nothing', async () => {
    const { client, socket } = await connectedClient();

    const tooBig = outcome(client.publish('chat:a', 'x'.repeat(MAX_FRAME_BYTES)));
    void client.publish('chat:a', 'x'.repeat(MAX_FRAME_BYTES - 200)).catch(() => {});
    await settle();

    expect(tooBig.error).toMatchObject({ code: 'message_too_large' });
    expect(socket.sentOf('publish')).toHaveLength(1);
  });

  it('retries a publish answered in_progress, with the same key', async () => {
    const { client, socket } = await connectedClient();
    const result = outcome(client.publish('chat:a', 1));
    const first = socket.lastSent('publish');
    socket.receive({ type: 'error', id: first.id, code: 'in_progress', message: 'retry shortly' });
    await vi.advanceTimersByTimeAsync(500);

    const retry = socket.lastSent('publish');
    expect(retry.id).not.toBe(first.id);
    expect(retry.idempotencyKey).toBe(first.idempotencyKey);
    socket.receive(ackFor(retry));
    await settle();
    expect(result.value).toMatchObject({ offset: 1 });
  });
});

describe('the publish queue while not connected', () => {
  it('sends waiting publishes once connected', async () => {
    const client = createClient({ url: 'wss://relay.test', WebSocket: FakeWebSocket });
    const result = outcome(client.publish('chat:a', 'early'));
    await settle();
    const socket = FakeWebSocket.last;
    expect(socket.sent).toEqual([]);

    socket.open();
    await settle();
    socket.receive(ackFor(socket.lastSent('publish')));
    await settle();

    expect(result.value).toMatchObject({ type: 'ack' });
  });

  it('a publish whose ack was lost with its connection is resent with the same idempotencyKey', async () => {
    const { client, socket } = await connectedClient();
    const result = outcome(client.publish('chat:a', 1));
    const first = socket.lastSent('publish');

    socket.drop();
    await vi.advanceTimersByTimeAsync(250);
    const next = FakeWebSocket.last;
    next.open();
    await settle();

    const resent = next.lastSent('publish');
    expect(resent.idempotencyKey).toBe(first.idempotencyKey);
    next.receive({ ...ackFor(resent), duplicate: true });
    await settle();
    expect(result.value).toMatchObject({ duplicate: true });
  });

  it('a publish waiting to retry after in_progress takes no place in the queue', async () => {
    const { client, socket } = await connectedClient({ maxQueuedPublishes: 1 });
    void client.publish('chat:a', 1).catch(() => {});
    const first = socket.lastSent('publish');
    socket.receive({ type: 'error', id: first.id, code: 'in_progress', message: 'retry shortly' });
    await settle();

    socket.drop();
    const queued = outcome(client.publish('chat:a', 2));
    const overflow = outcome(client.publish('chat:a', 3));
    await settle();

    expect(queued).toEqual({});
    expect(overflow.error).toMatchObject({ code: 'queue_full' });
  });

  it('a publish waiting out in_progress is resent after its delay, not at once when a new connection opens', async () => {
    const { client, socket } = await connectedClient({ random: () => 0 });
    void client.publish('chat:a', 1).catch(() => {});
    socket.receive({ type: 'error', id: socket.lastSent('publish').id, code: 'in_progress', message: 'retry shortly' });
    await settle();
    socket.drop();
    await settle(); // backoff 0: the next socket is made at once
    const next = FakeWebSocket.last;
    next.open();
    await settle();
    expect(next.sentOf('publish')).toHaveLength(0);

    await vi.advanceTimersByTimeAsync(500);

    expect(next.sentOf('publish')).toHaveLength(1);
  });

  it('is bounded: beyond maxQueuedPublishes a publish is refused with queue_full', async () => {
    const client = createClient({ url: 'wss://relay.test', WebSocket: FakeWebSocket, maxQueuedPublishes: 2 });
    void client.publish('chat:a', 1).catch(() => {});
    void client.publish('chat:a', 2).catch(() => {});

    const third = outcome(client.publish('chat:a', 3));
    await settle();

    expect(third.error).toMatchObject({ code: 'queue_full' });
    client.close();
  });

  it('close() rejects each waiting publish with its own idempotencyKey', async () => {
    const client = createClient({ url: 'wss://relay.test', WebSocket: FakeWebSocket });
    const first = outcome(client.publish('chat:a', 1, { idempotencyKey: 'k1' }));
    const second = outcome(client.publish('chat:a', 2, { idempotencyKey: 'k2' }));
    const tooBig = outcome(client.publish('chat:a', 'x'.repeat(MAX_FRAME_BYTES), { idempotencyKey: 'k3' }));

    client.close();
    await settle();

    expect(first.error).toMatchObject({ code: 'closed', idempotencyKey: 'k1' });
    expect(second.error).toMatchObject({ code: 'closed', idempotencyKey: 'k2' });
    expect(tooBig.error).toMatchObject({ code: 'message_too_large', idempotencyKey: 'k3' });
  });

  it('close() rejects what still waits, with code closed', async () => {
    const client = createClient({ url: 'wss://relay.test', WebSocket: FakeWebSocket });
    const result = outcome(client.publish('chat:a', 1));

    client.close();
    await settle();

    expect(result.error).toMatchObject({ code: 'closed' });
    await expect(client.publish('chat:a', 2)).rejects.toMatchObject({ code: 'closed' });
  });
});

describe('presence and history', () => {
  it('presence joins the pages of members', async () => {
    const { client, socket } = await connectedClient();
    const result = outcome(client.presence('chat:a'));
    const { id } = socket.lastSent('presence');
    const member = (n: number) => ({ connectionId: `c${n}`, userId: `u${n}`, info: null });

    socket.receive({ type: 'presence', id, channel: 'chat:a', members: [member(1)], more: true });
    socket.receive({ type: 'presence', id, channel: 'chat:a', members: [member(2)], more: false });
    await settle();

    expect(result.value).toEqual([member(1), member(2)]);
  });

  it('history passes limit and since, and joins the pages of publications', async () => {
    const { client, socket } = await connectedClient();
    const since = { offset: 3, epoch: 'e1' };
    const result = outcome(client.history('chat:a', { limit: 20, since }));
    const request = socket.lastSent('history');
    expect(request).toMatchObject({ channel: 'chat:a', limit: 20, since });
    const position = { offset: 5, epoch: 'e1' };

    const page = (offsets: number[], more: boolean) => ({
      type: 'history',
      id: request.id,
      channel: 'chat:a',
      position,
      publications: offsets.map((o) => messageAt('chat:a', o)),
      more,
    });
    socket.receive(page([4], true));
    socket.receive(page([5], false));
    await settle();

    expect(result.value).toEqual({
      channel: 'chat:a',
      position,
      publications: [messageAt('chat:a', 4), messageAt('chat:a', 5)],
    });
  });

  it('a subscription gap is filled through history on the connection', async () => {
    const { client, socket } = await connectedClient({ gapWindowMs: 1000 });
    const delivered: number[] = [];
    client.subscribe('chat:a', (m) => delivered.push(m.offset));
    socket.subscribed('chat:a', 0);
    await settle();
    socket.receive(messageAt('chat:a', 2));

    await vi.advanceTimersByTimeAsync(1000);
    const request = socket.lastSent('history');
    expect(request.since).toEqual({ offset: 0, epoch: 'e1' });
    socket.receive({
      type: 'history',
      id: request.id,
      channel: 'chat:a',
      position: { offset: 2, epoch: 'e1' },
      publications: [messageAt('chat:a', 1), messageAt('chat:a', 2)],
      more: false,
    });
    await settle();

    expect(delivered).toEqual([1, 2]);
  });
});
