import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createChannelStream } from '../../src/client/channel-stream.js';
import type { Message, Position } from '../../src/client/index.js';
import { messageAt } from '../helpers/fake-websocket.js';

const CHANNEL = 'chat:lobby';

function streamUnderTest(fill: (since: Position) => Promise<Message[]> = async () => []) {
  const delivered: number[] = [];
  const gaps: [number, number][] = [];
  const recovered: boolean[] = [];
  const fills: Position[] = [];
  const stream = createChannelStream({
    gapWindowMs: 1000,
    deliver: (message) => delivered.push(message.offset),
    fill: (since) => {
      fills.push(since);
      return fill(since);
    },
    onGap: (from, to) => gaps.push([from, to]),
    onRecovered: (value) => recovered.push(value),
  });
  const receive = (...offsets: number[]) => {
    for (const offset of offsets) stream.receive(messageAt(CHANNEL, offset));
  };
  return { stream, delivered, gaps, recovered, fills, receive };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('per-channel ordering', () => {
  it('delivers in offset order and drops repeats', () => {
    const { stream, delivered, receive } = streamUnderTest();
    stream.subscribed({ offset: 4, epoch: 'e1' }, undefined);

    receive(6, 5, 5, 7, 6, 4, 8);

    expect(delivered).toEqual([5, 6, 7, 8]);
    expect(stream.since()).toEqual({ offset: 8, epoch: 'e1' });
  });

  it('holds what arrives before the subscribed reply, and drops what the position already covers', () => {
    const { stream, delivered, receive } = streamUnderTest();
    receive(3, 4);
    expect(delivered).toEqual([]);
    expect(stream.since()).toBeUndefined();

    stream.subscribed({ offset: 3, epoch: 'e1' }, undefined);

    expect(delivered).toEqual([4]);
  });

  it('holds a gap for the window, then fills it from history after the last contiguous offset', async () => {
    const { stream, delivered, fills, gaps, receive } = streamUnderTest(async () => [messageAt(CHANNEL, 6)]);
    stream.subscribed({ offset: 4, epoch: 'e1' }, undefined);
    receive(5, 7);

    await vi.advanceTimersByTimeAsync(999);
    expect(delivered).toEqual([5]);
    expect(fills).toEqual([]);

    await vi.advanceTimersByTimeAsync(1);
    expect(fills).toEqual([{ offset: 5, epoch: 'e1' }]);
    expect(delivered).toEqual([5, 6, 7]);
    expect(gaps).toEqual([]);
  });

  it('a gap that arrives live within the window asks history for nothing', async () => {
    const { stream, delivered, fills, receive } = streamUnderTest();
    stream.subscribed({ offset: 0, epoch: 'e1' }, undefined);
    receive(2);
    await vi.advanceTimersByTimeAsync(500);
    receive(1);

    await vi.advanceTimersByTimeAsync(5000);

    expect(delivered).toEqual([1, 2]);
    expect(fills).toEqual([]);
  });

  it('a gap history cannot fill is reported, and delivery goes on after it', async () => {
    const { stream, delivered, gaps, receive } = streamUnderTest(async () => []);
    stream.subscribed({ offset: 0, epoch: 'e1' }, undefined);
    receive(1, 4, 5);

    await vi.advanceTimersByTimeAsync(1000);

    expect(gaps).toEqual([[2, 3]]);
    expect(delivered).toEqual([1, 4, 5]);
    receive(2, 3);
    expect(delivered).toEqual([1, 4, 5]);
  });

  it('a failing history read counts as unfillable', async () => {
    const { stream, delivered, gaps, receive } = streamUnderTest(() => Promise.reject(new Error('forbidden')));
    stream.subscribed({ offset: 0, epoch: 'e1' }, undefined);
    receive(2);

    await vi.advanceTimersByTimeAsync(1000);

    expect(gaps).toEqual([[1, 1]]);
    expect(delivered).toEqual([2]);
  });
});

describe('recovery', () => {
  it('a resubscribe that recovered reports true and keeps the place', () => {
    const { stream, delivered, recovered, receive } = streamUnderTest();
    stream.subscribed({ offset: 0, epoch: 'e1' }, undefined);
    receive(1, 2);

    stream.subscribed({ offset: 5, epoch: 'e1' }, true);
    receive(3, 4, 5);

    expect(recovered).toEqual([true]);
    expect(delivered).toEqual([1, 2, 3, 4, 5]);
  });

  it('recovered false is surfaced, and delivery restarts after the reply position', () => {
    const { stream, delivered, recovered, receive } = streamUnderTest();
    stream.subscribed({ offset: 0, epoch: 'e1' }, undefined);
    receive(1);

    stream.subscribed({ offset: 40, epoch: 'e1' }, false);
    receive(41);

    expect(recovered).toEqual([false]);
    expect(delivered).toEqual([1, 41]);
  });

  it('a late message of an epoch it moved on from is dropped: the stream never goes back', () => {
    const { stream, delivered, recovered } = streamUnderTest();
    stream.subscribed({ offset: 7, epoch: 'e1' }, undefined);
    stream.receive(messageAt(CHANNEL, 1, 'e2'));
    stream.receive(messageAt(CHANNEL, 2, 'e2'));

    stream.receive(messageAt(CHANNEL, 8, 'e1'));
    stream.receive(messageAt(CHANNEL, 3, 'e2'));

    expect(delivered).toEqual([1, 2, 3]);
    expect(recovered).toEqual([false]);
    expect(stream.since()).toEqual({ offset: 3, epoch: 'e2' });
  });

  it('a second subscribed reply without since (a handover) keeps the place in the same epoch', () => {
    const { stream, delivered, recovered, receive } = streamUnderTest();
    stream.subscribed({ offset: 2, epoch: 'e1' }, undefined);
    receive(3, 4);

    stream.subscribed({ offset: 9, epoch: 'e1' }, undefined);
    receive(5);

    expect(delivered).toEqual([3, 4, 5]);
    expect(recovered).toEqual([]);
    expect(stream.since()).toEqual({ offset: 5, epoch: 'e1' });
  });

  it('a message of another epoch means the stream was recreated: recovered false, offsets from 1', () => {
    const { stream, delivered, recovered } = streamUnderTest();
    stream.subscribed({ offset: 7, epoch: 'e1' }, undefined);

    stream.receive(messageAt(CHANNEL, 1, 'e2'));

    expect(recovered).toEqual([false]);
    expect(delivered).toEqual([1]);
    expect(stream.since()).toEqual({ offset: 1, epoch: 'e2' });
  });
});

describe('a second connection’s position (a handover)', () => {
  it('not recovered, while the old connection is live: keeps its place and waits for what the old one still brings', () => {
    const { stream, delivered, recovered, receive } = streamUnderTest();
    stream.subscribed({ offset: 4, epoch: 'e1' }, undefined);
    receive(5);

    stream.subscribed({ offset: 7, epoch: 'e1' }, false, true);
    expect(stream.reached({ offset: 7, epoch: 'e1' })).toBe(false);
    receive(6, 7);

    expect(delivered).toEqual([5, 6, 7]);
    expect(stream.reached({ offset: 7, epoch: 'e1' })).toBe(true);
    expect(recovered).toEqual([]);
  });

  it('what the old connection never brings is a gap: filled from history after the window, else told', async () => {
    const { stream, delivered, fills, gaps } = streamUnderTest(async () => {
      throw new Error('forbidden');
    });
    stream.subscribed({ offset: 4, epoch: 'e1' }, undefined);
    stream.subscribed({ offset: 7, epoch: 'e1' }, undefined);

    await vi.advanceTimersByTimeAsync(1000);

    expect(fills).toEqual([{ offset: 4, epoch: 'e1' }]);
    expect(gaps).toEqual([[5, 7]]);
    expect(stream.since()).toEqual({ offset: 7, epoch: 'e1' });
    expect(delivered).toEqual([]);
  });
});

describe('the gap window, precisely', () => {
  it('a hole that appears while a fill is in flight gets its own window', async () => {
    let answer!: (messages: Message[]) => void;
    const { stream, delivered, gaps, receive } = streamUnderTest(() => new Promise((resolve) => (answer = resolve)));
    stream.subscribed({ offset: 0, epoch: 'e1' }, undefined);
    receive(1, 3);
    await vi.advanceTimersByTimeAsync(1000); // the fill after 1 is in flight
    receive(2, 5); // 2 closes the first hole; 4 is a new one

    answer([messageAt(CHANNEL, 2), messageAt(CHANNEL, 3)]); // read before 4 and 5 were kept
    await vi.advanceTimersByTimeAsync(0);
    receive(4);

    expect(delivered).toEqual([1, 2, 3, 4, 5]);
    expect(gaps).toEqual([]);
  });

  it('starts over when the hole that started it closes, so the next hole is not reported early', async () => {
    const { stream, delivered, gaps, receive } = streamUnderTest();
    stream.subscribed({ offset: 0, epoch: 'e1' }, undefined);
    receive(1, 3); // hole 2 from t = 0
    await vi.advanceTimersByTimeAsync(500);
    receive(5); // hole 4 from t = 500
    await vi.advanceTimersByTimeAsync(400);
    receive(2); // t = 900

    await vi.advanceTimersByTimeAsync(150); // t = 1050: past the first hole's window
    receive(4);

    expect(delivered).toEqual([1, 2, 3, 4, 5]);
    expect(gaps).toEqual([]);
  });

  it('a reply in the same epoch behind what was delivered does not move the stream back', () => {
    const { stream, delivered, receive } = streamUnderTest();
    stream.subscribed({ offset: 10, epoch: 'e1' }, undefined);
    receive(11); // live, before the reconnect's reply

    stream.subscribed({ offset: 10, epoch: 'e1' }, false);
    receive(11);

    expect(delivered).toEqual([11]);
    expect(stream.since()).toEqual({ offset: 11, epoch: 'e1' });
  });

  it('tells nothing after stop(), even when a fill in flight fails then', async () => {
    let fail!: (error: Error) => void;
    const { stream, gaps, recovered, receive } = streamUnderTest(() => new Promise((_, reject) => (fail = reject)));
    stream.subscribed({ offset: 0, epoch: 'e1' }, undefined);
    receive(2);
    await vi.advanceTimersByTimeAsync(1000);

    stream.stop();
    fail(new Error('closed'));
    await vi.advanceTimersByTimeAsync(0);
    stream.receive(messageAt(CHANNEL, 1, 'e2'));

    expect(gaps).toEqual([]);
    expect(recovered).toEqual([]);
  });
});
