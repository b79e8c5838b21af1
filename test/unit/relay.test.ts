import { describe, expect, it } from 'vitest';
import { createConnections, createRelay, DEFAULT_ROOM } from '../../src/core/index.js';
import { FakeSender, FakeStore, recordingLogger } from '../helpers/fakes.js';

const NOW = 1_700_000_000_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function setUp() {
  const store = new FakeStore(2, () => Math.floor(NOW / 1000));
  const sender = new FakeSender();
  const relay = createRelay({ store, sender, clock: { now: () => NOW }, logger: recordingLogger() });
  return { store, sender, relay };
}

describe('createRelay', () => {
  it("connect records the connection in the default room with a TTL beyond API Gateway's 2 hours", async () => {
    const { store, relay } = setUp();

    await relay.connect({ connectionId: 'a', sourceIp: '203.0.113.9' });

    const record = store.connections.get('a')!;
    expect(record).toMatchObject({ connectionId: 'a', connectedAt: NOW, sourceIp: '203.0.113.9' });
    expect(record.expiresAt).toBeGreaterThan(NOW / 1000 + 2 * 3600);
    expect(store.rooms.get(DEFAULT_ROOM)?.has('a')).toBe(true);
  });

  it('sendmessage reaches every connection, the sender included, with one shared frame', async () => {
    const { sender, relay } = setUp();
    for (const id of ['a', 'b', 'c']) await relay.connect({ connectionId: id, sourceIp: '::1' });

    const outcome = await relay.message('a', JSON.stringify({ action: 'sendmessage', data: { text: 'hi' } }));

    expect(outcome).toEqual({ kind: 'broadcast', result: { delivered: 3, gone: 0, failed: 0 } });
    const [frame] = sender.framesFor('a');
    expect(frame).toEqual({
      type: 'message',
      data: { text: 'hi' },
      from: 'a',
      id: expect.stringMatching(UUID),
      ts: NOW,
    });
    for (const id of ['b', 'c']) expect(sender.framesFor(id)).toEqual([frame]);
  });

  it('an invalid frame gets an error frame to the sender only', async () => {
    const { sender, relay } = setUp();
    for (const id of ['a', 'b']) await relay.connect({ connectionId: id, sourceIp: '::1' });

    const outcome = await relay.message('a', '{"action":"dance"}');

    expect(outcome).toEqual({ kind: 'rejected', code: 'unknown_action' });
    expect(sender.framesFor('a')).toEqual([
      { type: 'error', code: 'unknown_action', message: expect.stringContaining('dance') },
    ]);
    expect(sender.framesFor('b')).toEqual([]);
  });

  it('forgets a sender that vanished before its error frame could be delivered', async () => {
    const { store, sender, relay } = setUp();
    await relay.connect({ connectionId: 'a', sourceIp: '::1' });
    sender.gone.add('a');

    await relay.message('a', 'garbage');

    expect(store.connections.has('a')).toBe(false);
  });

  it('a message whose frame would exceed 128 KB is refused before any delivery', async () => {
    const { sender, relay } = setUp();
    for (const id of ['a', 'b']) await relay.connect({ connectionId: id, sourceIp: '::1' });

    const outcome = await relay.message(
      'a',
      JSON.stringify({ action: 'sendmessage', data: 'x'.repeat(128 * 1024 - 40) }),
    );

    expect(outcome).toEqual({ kind: 'rejected', code: 'message_too_large' });
    expect(sender.framesFor('b')).toEqual([]);
    expect(sender.framesFor('a')).toEqual([
      { type: 'error', code: 'message_too_large', message: expect.stringMatching(/limit is 131072/) },
    ]);
    await expect(relay.publish('y'.repeat(200 * 1024))).rejects.toThrow(/limit is 131072/);
  });

  it('disconnect removes the connection so broadcasts skip it', async () => {
    const { sender, relay } = setUp();
    for (const id of ['a', 'b']) await relay.connect({ connectionId: id, sourceIp: '::1' });

    await relay.disconnect('b');
    const result = await relay.publish({ n: 1 });

    expect(result.delivered).toBe(1);
    expect(sender.framesFor('b')).toEqual([]);
    expect(sender.framesFor('a')).toEqual([
      { type: 'message', data: { n: 1 }, from: null, id: expect.stringMatching(UUID), ts: NOW },
    ]);
  });
});

describe('createConnections ($connect and $disconnect need the store alone)', () => {
  it('records a connection at the time the gateway accepted it, and forgets it', async () => {
    const store = new FakeStore(2, () => Math.floor(NOW / 1000));
    const connections = createConnections({ store, clock: { now: () => NOW } });

    await connections.connect({ connectionId: 'a', sourceIp: '::1', connectedAt: NOW - 5_000 });
    expect(store.connections.get('a')).toMatchObject({ connectedAt: NOW - 5_000 });
    expect(store.rooms.get(DEFAULT_ROOM)?.has('a')).toBe(true);

    await connections.disconnect('a');
    expect(store.connections.has('a')).toBe(false);
    expect(store.removed).toEqual([{ connectionId: 'a', rooms: [] }]);
  });
});
