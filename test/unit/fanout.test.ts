import { describe, expect, it } from 'vitest';
import { fanOut } from '../../src/core/index.js';
import { FakeSender, FakeStore, recordingLogger } from '../helpers/fakes.js';

async function* pages(...lists: string[][]) {
  for (const list of lists) yield list;
}

describe('fanOut', () => {
  it('delivers to every recipient across pages, never more than `concurrency` at once', async () => {
    const sender = new FakeSender();
    const ids = Array.from({ length: 50 }, (_, i) => `c${i}`);

    const result = await fanOut(pages(ids.slice(0, 20), ids.slice(20)), 'payload', {
      sender, store: new FakeStore(), logger: recordingLogger(), concurrency: 4,
    });

    expect(result).toEqual({ delivered: 50, gone: 0, failed: 0 });
    expect(sender.sent.map((s) => s.connectionId).sort()).toEqual([...ids].sort());
    expect(sender.maxInFlight).toBe(4);
  });

  it('prunes gone connections and keeps delivering to the rest', async () => {
    const sender = new FakeSender();
    sender.gone.add('b');
    const store = new FakeStore();
    for (const id of ['a', 'b', 'c']) await store.add({ connectionId: id, connectedAt: 0, sourceIp: '::1', expiresAt: 2e9 }, 'default');

    const result = await fanOut(pages(['a', 'b', 'c']), 'x', { sender, store, logger: recordingLogger(), concurrency: 2 });

    expect(result).toEqual({ delivered: 2, gone: 1, failed: 0 });
    expect(store.connections.has('b')).toBe(false);
    expect(store.connections.has('a')).toBe(true);
  });

  it('logs other failures without stopping delivery or pruning', async () => {
    const sender = new FakeSender();
    sender.failing.add('a');
    const store = new FakeStore();
    await store.add({ connectionId: 'a', connectedAt: 0, sourceIp: '::1', expiresAt: 2e9 }, 'default');
    const logger = recordingLogger();

    const result = await fanOut(pages(['a', 'b']), 'x', { sender, store, logger, concurrency: 8 });

    expect(result).toEqual({ delivered: 1, gone: 0, failed: 1 });
    expect(store.connections.has('a')).toBe(true);
    expect(logger.lines).toEqual([expect.objectContaining({ level: 'warn', message: 'delivery failed' })]);
  });

  it('still succeeds when pruning a gone connection fails', async () => {
    const sender = new FakeSender();
    sender.gone.add('a');
    const logger = recordingLogger();
    const store = { remove: async () => { throw new Error('table busy'); } };

    const result = await fanOut(pages(['a', 'b']), 'x', { sender, store, logger, concurrency: 8 });

    expect(result).toEqual({ delivered: 1, gone: 1, failed: 0 });
    expect(logger.lines[0]?.message).toBe('could not prune gone connection');
  });
});
