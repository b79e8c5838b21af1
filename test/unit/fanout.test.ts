import { describe, expect, it } from 'vitest';
import { CONNECT_GRACE_MS, fanOut, type Member } from '../../src/core/index.js';
import { FakeSender, FakeStore, recordingLogger } from '../helpers/fakes.js';

const NOW = 1_700_000_000_000;
const clock = { now: () => NOW };
const old = (connectionId: string): Member => ({ connectionId, connectedAt: NOW - CONNECT_GRACE_MS - 1 });
/** Forgetting as the relay does it, minus the leave events and orphan memberships: remove the connection. */
const forgetIn = (store: Pick<FakeStore, 'remove'>) => async (connectionId: string, _channel: string) => {
  await store.remove(connectionId);
};

async function* pages(...lists: Member[][]) {
  for (const list of lists) yield list;
}

describe('fanOut', () => {
  it('delivers to every recipient across pages, never more than `concurrency` at once', async () => {
    const sender = new FakeSender();
    const members = Array.from({ length: 50 }, (_, i) => old(`c${i}`));

    const result = await fanOut('r', pages(members.slice(0, 20), members.slice(20)), 'payload', {
      sender,
      forget: forgetIn(new FakeStore()),
      logger: recordingLogger(),
      clock,
      concurrency: 4,
    });

    expect(result).toEqual({ delivered: 50, gone: 0, failed: 0 });
    expect(sender.sent.map((s) => s.connectionId).sort()).toEqual(members.map((m) => m.connectionId).sort());
    expect(sender.maxInFlight).toBe(4);
  });

  it('prunes gone connections from the room being broadcast to, and keeps delivering to the rest', async () => {
    const sender = new FakeSender();
    sender.gone.add('b');
    const store = new FakeStore();

    const result = await fanOut('lobby', pages([old('a'), old('b'), old('c')]), 'x', {
      sender,
      forget: forgetIn(store),
      logger: recordingLogger(),
      clock,
      concurrency: 2,
    });

    expect(result).toEqual({ delivered: 2, gone: 1, failed: 0 });
    expect(store.removed.map((removal) => removal.connectionId)).toEqual(['b']);
  });

  // API Gateway answers Gone until $connect returns.
  it('does not prune a connection still inside its $connect window', async () => {
    const sender = new FakeSender();
    sender.gone.add('new');
    const store = new FakeStore();

    const result = await fanOut('r', pages([{ connectionId: 'new', connectedAt: NOW - 50 }]), 'x', {
      sender,
      forget: forgetIn(store),
      logger: recordingLogger(),
      clock,
      concurrency: 2,
    });

    expect(result).toEqual({ delivered: 0, gone: 1, failed: 0 });
    expect(store.removed).toEqual([]);
  });

  it('logs other failures without stopping delivery or pruning', async () => {
    const sender = new FakeSender();
    sender.failing.add('a');
    const store = new FakeStore();
    const logger = recordingLogger();

    const result = await fanOut('r', pages([old('a'), old('b')]), 'x', {
      sender,
      forget: forgetIn(store),
      logger,
      clock,
      concurrency: 8,
    });

    expect(result).toEqual({ delivered: 1, gone: 0, failed: 1 });
    expect(store.removed).toEqual([]);
    // The error itself, not a string: the logger keeps its stack and cause.
    expect(logger.lines).toEqual([
      {
        level: 'warn',
        message: 'delivery failed',
        details: { connectionId: 'a', error: expect.objectContaining({ message: 'throttled' }) },
      },
    ]);
    expect((logger.lines[0]!.details as { error: unknown }).error).toBeInstanceOf(Error);
  });

  it('frees the slot of a delivery whose failure could not be logged: the broadcast still finishes', async () => {
    const sender = new FakeSender();
    sender.failing.add('a');
    const logger = {
      ...recordingLogger(),
      warn: () => {
        throw new Error('log sink down');
      },
    };

    const result = await fanOut('r', pages([old('a'), old('b'), old('c')]), 'x', {
      sender,
      forget: forgetIn(new FakeStore()),
      logger,
      clock,
      concurrency: 1,
    });

    expect(result).toEqual({ delivered: 2, gone: 0, failed: 1 });
  });

  it('when reading a later page fails, finishes the deliveries it started before failing', async () => {
    const sender = new FakeSender();
    async function* failingPages() {
      yield [old('a'), old('b')];
      throw new Error('Query failed');
    }

    const outcome = fanOut('r', failingPages(), 'x', {
      sender,
      forget: forgetIn(new FakeStore()),
      logger: recordingLogger(),
      clock,
      concurrency: 8,
    });

    await expect(outcome).rejects.toThrow('Query failed');
    expect(sender.sent.map((s) => s.connectionId).sort()).toEqual(['a', 'b']);
    expect(sender.inFlight).toBe(0);
  });

  it('skips the member a join event is about', async () => {
    const sender = new FakeSender();

    const result = await fanOut(
      'r',
      pages([old('a'), old('b'), old('c')]),
      'x',
      {
        sender,
        forget: forgetIn(new FakeStore()),
        logger: recordingLogger(),
        clock,
        concurrency: 8,
      },
      'b',
    );

    expect(result).toEqual({ delivered: 2, gone: 0, failed: 0 });
    expect(sender.sent.map((s) => s.connectionId).sort()).toEqual(['a', 'c']);
  });

  it('still succeeds when pruning a gone connection fails', async () => {
    const sender = new FakeSender();
    sender.gone.add('a');
    const logger = recordingLogger();
    const store = {
      remove: async () => {
        throw new Error('table busy');
      },
    };

    const result = await fanOut('r', pages([old('a'), old('b')]), 'x', {
      sender,
      forget: forgetIn(store),
      logger,
      clock,
      concurrency: 8,
    });

    expect(result).toEqual({ delivered: 1, gone: 1, failed: 0 });
    expect(logger.lines[0]?.message).toBe('could not prune gone connection');
  });
});
