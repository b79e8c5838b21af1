import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClientOptions } from '../../src/client/index.js';
import { connectedClient, FakeWebSocket, messageAt, settle } from '../helpers/fake-websocket.js';

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
});
afterEach(() => vi.useRealTimers());

const TWO_HOURS_LESS_FIVE_MINUTES = 115 * 60_000;

/** A client subscribed to chat:a (offset 0) on its first socket; its handover's socket has just opened. */
async function handoverOpened(options: Partial<ClientOptions> = {}) {
  const { client, socket: old } = await connectedClient({ maxConnectionMs: 60_000, ...options });
  const delivered: number[] = [];
  client.subscribe('chat:a', (m) => delivered.push(m.offset));
  old.subscribed('chat:a', 0);
  await vi.advanceTimersByTimeAsync(60_000);
  const next = FakeWebSocket.last;
  next.open();
  await settle();
  return { client, old, next, delivered };
}

describe('the 2-hour handover', () => {
  it('by default opens a new connection 5 minutes before API Gateway’s 2-hour limit', async () => {
    await connectedClient();

    await vi.advanceTimersByTimeAsync(TWO_HOURS_LESS_FIVE_MINUTES - 1);
    expect(FakeWebSocket.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeWebSocket.instances).toHaveLength(2);
  });

  it('resubscribes on the new connection with since, closes the old one only then, and delivers each offset once', async () => {
    let issued = 0;
    const { client, socket: old } = await connectedClient({ maxConnectionMs: 60_000, token: () => `t${++issued}` });
    const delivered: number[] = [];
    client.subscribe('chat:a', (m) => delivered.push(m.offset));
    old.subscribed('chat:a', 0);
    await settle();
    old.receive(messageAt('chat:a', 1));

    await vi.advanceTimersByTimeAsync(60_000);
    const next = FakeWebSocket.last;
    expect(next).not.toBe(old);
    expect(next.token).toBe('t2');
    next.open();
    await settle();
    expect(next.lastSent('subscribe')).toMatchObject({ channel: 'chat:a', since: { offset: 1, epoch: 'e1' } });
    old.receive(messageAt('chat:a', 2)); // still live on the old one meanwhile
    expect(old.closedWith).toBeUndefined();

    next.subscribed('chat:a', 2, 'e1', true);
    next.receive(messageAt('chat:a', 2)); // the replay repeats it
    await settle();

    expect(old.closedWith).toEqual({ code: 1000, reason: 'handover' });
    next.receive(messageAt('chat:a', 3));
    expect(delivered).toEqual([1, 2, 3]);
    expect(client.state).toBe('connected');
  });

  it('requests go to the new connection after the handover; the old one dropping while it catches up changes nothing', async () => {
    const { client, old, next } = await handoverOpened();
    next.subscribed('chat:a', 3, 'e1', false); // offsets 1-3 still to come on the old one
    await settle();
    expect(old.closedWith).toBeUndefined();

    void client.publish('chat:a', 1).catch(() => {});
    old.drop(1001, 'Going away');
    await vi.advanceTimersByTimeAsync(60_000 - 1);

    expect(next.sentOf('publish')).toHaveLength(1);
    expect(old.sentOf('publish')).toHaveLength(0);
    expect(FakeWebSocket.instances).toHaveLength(2);
    expect(client.state).toBe('connected');
  });

  it('when the new connection cannot open, the old one goes on', async () => {
    const { client, socket: old } = await connectedClient({ maxConnectionMs: 60_000 });
    await vi.advanceTimersByTimeAsync(60_000);

    FakeWebSocket.last.fail('connect ECONNREFUSED');
    await settle();

    expect(old.closedWith).toBeUndefined();
    expect(client.state).toBe('connected');
    void client.publish('chat:a', 1).catch(() => {});
    expect(old.sentOf('publish')).toHaveLength(1);
  });
});

describe('subscriptions during a handover', () => {
  it('a channel subscribed while the new connection resubscribes is subscribed on both', async () => {
    const { client, old, next } = await handoverOpened();

    client.subscribe('chat:b', () => {});

    expect(old.lastSent('subscribe').channel).toBe('chat:b');
    expect(next.lastSent('subscribe').channel).toBe('chat:b');
  });

  it('a failed handover is tried again with backoff, up to backoff.capMs; one that succeeds starts it over', async () => {
    // random() is 0.5: each delay is half of min(capMs, baseMs * 2^failures).
    const { client, socket: old } = await connectedClient({
      maxConnectionMs: 60_000,
      backoff: { baseMs: 1000, capMs: 5000 },
    });
    client.subscribe('chat:a', () => {});
    old.subscribed('chat:a', 0);
    await vi.advanceTimersByTimeAsync(60_000);
    const retriesAfter = async (delays: number[]) => {
      for (const delayMs of delays) {
        const count = FakeWebSocket.instances.length;
        FakeWebSocket.last.fail('connect ECONNREFUSED');
        await vi.advanceTimersByTimeAsync(delayMs - 1);
        expect(FakeWebSocket.instances).toHaveLength(count);
        await vi.advanceTimersByTimeAsync(1);
        expect(FakeWebSocket.instances).toHaveLength(count + 1);
      }
    };

    await retriesAfter([500, 1000, 2000, 2500, 2500]);
    const next = FakeWebSocket.last;
    next.open();
    await settle();
    next.subscribed('chat:a', 0, 'e1', true);
    await settle();
    expect(old.closedWith).toEqual({ code: 1000, reason: 'handover' });
    await vi.advanceTimersByTimeAsync(60_000);
    await retriesAfter([500]);
  });
});

describe('a handover that does not complete', () => {
  it('a resubscribe the new connection does not answer in publishTimeoutMs: it is closed, the old one stays, and the handover is tried again', async () => {
    const { client, old, next, delivered } = await handoverOpened({ backoff: { capMs: 5000 }, publishTimeoutMs: 3000 });

    await vi.advanceTimersByTimeAsync(3000);

    expect(next.closedWith).toEqual({ code: 1000, reason: 'handover failed' });
    expect(old.closedWith).toBeUndefined();
    old.receive(messageAt('chat:a', 1));
    expect(delivered).toEqual([1]);
    await vi.advanceTimersByTimeAsync(250); // the first retry: half of backoff.baseMs (500)
    expect(FakeWebSocket.instances).toHaveLength(3);
    expect(client.state).toBe('connected');
  });

  it('the new connection dropping mid-resubscribe: the old one stays, and the handover is tried again', async () => {
    const { old, next } = await handoverOpened({ backoff: { capMs: 5000 } });

    next.drop(1006);
    await settle();

    expect(old.closedWith).toBeUndefined();
    await vi.advanceTimersByTimeAsync(5000);
    const third = FakeWebSocket.last;
    expect(third).not.toBe(next);
    third.open();
    await settle();
    third.subscribed('chat:a', 0, 'e1', true);
    await settle();
    expect(old.closedWith).toEqual({ code: 1000, reason: 'handover' });
  });

  it('a channel subscribed during the handover and not answered on the new connection: the old one stays', async () => {
    const { client, old, next } = await handoverOpened({ backoff: { capMs: 5000 }, publishTimeoutMs: 3000 });
    client.subscribe('chat:b', () => {});
    old.subscribed('chat:b', 0);
    next.subscribed('chat:a', 0, 'e1', true);
    await settle();
    expect(old.closedWith).toBeUndefined();

    await vi.advanceTimersByTimeAsync(3000);

    expect(next.closedWith).toEqual({ code: 1000, reason: 'handover failed' });
    expect(old.closedWith).toBeUndefined();
    expect(client.state).toBe('connected');
  });

  it('close() while the new connection opens: it is closed once open, and nothing is adopted', async () => {
    const { client, socket: old } = await connectedClient({ maxConnectionMs: 60_000 });
    client.subscribe('chat:a', () => {});
    old.subscribed('chat:a', 0);
    await vi.advanceTimersByTimeAsync(60_000);
    const next = FakeWebSocket.last;

    client.close();
    next.open();
    await settle();

    expect(old.closedWith?.code).toBe(1000);
    expect(next.closedWith?.code).toBe(1000);
    expect(next.sent).toEqual([]);
    expect(client.state).toBe('closed');
  });
});

describe('recovery notices on a handover', () => {
  it('a handover recovering (the old connection was live) tells no one; one that cannot recover tells onRecovered(false)', async () => {
    const { client, socket: old } = await connectedClient({ maxConnectionMs: 60_000 });
    const recovered: boolean[] = [];
    client.subscribe('chat:a', () => {}, { onRecovered: (r) => recovered.push(r) });
    client.subscribe('chat:b', () => {}, { onRecovered: (r) => recovered.push(r) });
    old.subscribed('chat:a', 0);
    old.subscribed('chat:b', 0);
    await vi.advanceTimersByTimeAsync(60_000);
    const next = FakeWebSocket.last;
    next.open();
    await settle();

    next.subscribed('chat:a', 0, 'e1', true);
    next.subscribed('chat:b', 0, 'e2', false);
    await settle();

    expect(recovered).toEqual([false]);
  });
});

describe('the old connection after a handover', () => {
  /** Handed over on chat:a: the old socket delivered up to 1, the new one answered `reply`. */
  async function handedOver(reply: { offset: number; recovered?: boolean }, options = {}) {
    const { client, socket: old } = await connectedClient({ maxConnectionMs: 60_000, ...options });
    const delivered: number[] = [];
    const recovered: boolean[] = [];
    const gaps: [number, number][] = [];
    const subscription = client.subscribe('chat:a', (m) => delivered.push(m.offset), {
      onRecovered: (r) => recovered.push(r),
      onGap: (from, to) => gaps.push([from, to]),
    });
    old.subscribed('chat:a', 0);
    old.receive(messageAt('chat:a', 1));
    await vi.advanceTimersByTimeAsync(60_000);
    const next = FakeWebSocket.last;
    next.open();
    await settle();
    next.subscribed('chat:a', reply.offset, 'e1', reply.recovered);
    await settle();
    return { client, old, next, delivered, recovered, gaps, subscription };
  }

  it('an unsubscribe while it lingers is sent on it too, and it is closed if it was waiting only for that channel', async () => {
    const { old, next, subscription } = await handedOver({ offset: 3, recovered: false });

    subscription.unsubscribe();

    expect(old.lastSent('unsubscribe').channel).toBe('chat:a');
    expect(next.lastSent('unsubscribe').channel).toBe('chat:a');
    expect(old.closedWith).toEqual({ code: 1000, reason: 'handover' });
  });

  it('not recovered (no history capability): stays open until it has delivered up to the new position; nothing is lost or told', async () => {
    const { old, next, delivered, recovered } = await handedOver({ offset: 3, recovered: false });
    expect(old.closedWith).toBeUndefined();

    old.receive(messageAt('chat:a', 2));
    next.receive(messageAt('chat:a', 4)); // live on the new one meanwhile
    expect(old.closedWith).toBeUndefined();
    old.receive(messageAt('chat:a', 3));

    expect(old.closedWith).toEqual({ code: 1000, reason: 'handover' });
    expect(delivered).toEqual([1, 2, 3, 4]);
    expect(recovered).toEqual([]);
  });

  it('is closed after the gap window even if it never delivers; the missing offsets are filled from history', async () => {
    const { old, next, delivered } = await handedOver({ offset: 3, recovered: false }, { gapWindowMs: 1000 });

    await vi.advanceTimersByTimeAsync(1000);

    expect(old.closedWith).toEqual({ code: 1000, reason: 'handover' });
    const request = next.lastSent('history');
    expect(request).toMatchObject({ channel: 'chat:a', since: { offset: 1, epoch: 'e1' } });
    next.receive({
      type: 'history',
      id: request.id,
      channel: 'chat:a',
      position: { offset: 3, epoch: 'e1' },
      publications: [messageAt('chat:a', 2), messageAt('chat:a', 3)],
    });
    await settle();
    expect(delivered).toEqual([1, 2, 3]);
  });

  it('the duration counts from the handshake: the next handover is due maxConnectionMs after the new connection opened', async () => {
    const { client, socket: old } = await connectedClient({ maxConnectionMs: 60_000 });
    client.subscribe('chat:a', () => {});
    old.subscribed('chat:a', 0);
    await vi.advanceTimersByTimeAsync(60_000);
    const next = FakeWebSocket.last;
    next.open();
    await vi.advanceTimersByTimeAsync(5000); // a slow resubscribe
    next.subscribed('chat:a', 0, 'e1', true);
    await settle();
    expect(old.closedWith).toEqual({ code: 1000, reason: 'handover' });

    await vi.advanceTimersByTimeAsync(55_000 - 1);
    expect(FakeWebSocket.instances).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeWebSocket.instances).toHaveLength(3);
  });
});

describe('the old connection lost during a handover', () => {
  it('while the new one resubscribes: it takes over once ready, with no reconnect and no other socket', async () => {
    const { client, socket: old } = await connectedClient({ maxConnectionMs: 60_000, backoff: { baseMs: 1000 } });
    const states: string[] = [];
    client.on('state', ({ state }) => states.push(state));
    client.subscribe('chat:a', () => {});
    old.subscribed('chat:a', 0);
    await vi.advanceTimersByTimeAsync(60_000);
    const next = FakeWebSocket.last;
    next.open();
    await settle();

    old.drop(1001, 'Going away'); // the duration limit, a moment before the resubscribe is answered
    await vi.advanceTimersByTimeAsync(2000);
    next.subscribed('chat:a', 0, 'e1', true);
    await vi.advanceTimersByTimeAsync(10_000);

    expect(FakeWebSocket.instances).toHaveLength(2);
    expect(states).toEqual([]);
    expect(client.state).toBe('connected');
    void client.publish('chat:a', 1).catch(() => {});
    expect(next.sentOf('publish')).toHaveLength(1);
  });

  it('while the new one resubscribes, and it fails: the reconnect follows, with the old one’s reason', async () => {
    const { client, old, next } = await handoverOpened({ publishTimeoutMs: 3000 });
    const reasons: (string | undefined)[] = [];
    client.on('state', ({ state, reason }) => reasons.push(`${state}: ${reason}`));

    old.drop(1001, 'Going away');
    await vi.advanceTimersByTimeAsync(3000); // the resubscribe is not answered

    expect(next.closedWith).toEqual({ code: 1000, reason: 'handover failed' });
    expect(reasons).toEqual(['reconnecting: closed 1001: Going away']);
    await vi.advanceTimersByTimeAsync(250);
    const third = FakeWebSocket.last;
    expect(third).not.toBe(next);
    third.open();
    await settle();
    expect(client.state).toBe('connected');
    expect(third.lastSent('subscribe').channel).toBe('chat:a');
  });

  it('while the new one still opens: the reconnect starts at once, and the new one is closed when it opens', async () => {
    const { client, socket: old } = await connectedClient({ maxConnectionMs: 60_000 });
    client.subscribe('chat:a', () => {});
    old.subscribed('chat:a', 0);
    await vi.advanceTimersByTimeAsync(60_000);
    const next = FakeWebSocket.last;

    old.drop(1001, 'Going away');
    await settle();
    expect(client.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(250); // the reconnect opens a third socket
    const third = FakeWebSocket.last;
    expect(third).not.toBe(next);
    next.open();
    await settle();
    third.open();
    await settle();

    expect(next.closedWith).toBeDefined();
    expect(next.sent).toEqual([]);
    expect(client.state).toBe('connected');
    void client.publish('chat:a', 1).catch(() => {});
    expect(third.sentOf('publish')).toHaveLength(1);
  });

  it('the handover backoff starts over on a connection a reconnect opened', async () => {
    // random() is 0.5: the first retry waits half of baseMs, the third half of 4 × baseMs.
    const { client, socket: old } = await connectedClient({
      maxConnectionMs: 60_000,
      backoff: { baseMs: 1000, capMs: 30_000 },
    });
    client.subscribe('chat:a', () => {});
    old.subscribed('chat:a', 0);
    await vi.advanceTimersByTimeAsync(60_000);
    FakeWebSocket.last.fail('connect ECONNREFUSED');
    await vi.advanceTimersByTimeAsync(500);
    FakeWebSocket.last.fail('connect ECONNREFUSED');
    await vi.advanceTimersByTimeAsync(1000);
    old.drop(1001, 'Going away'); // while the third try opens: a reconnect
    await vi.advanceTimersByTimeAsync(500);
    const reconnected = FakeWebSocket.last;
    reconnected.open();
    await settle();
    reconnected.subscribed('chat:a', 0, 'e1', true);
    await vi.advanceTimersByTimeAsync(60_000); // its handover
    const count = FakeWebSocket.instances.length;

    FakeWebSocket.last.fail('connect ECONNREFUSED');
    await vi.advanceTimersByTimeAsync(499);
    expect(FakeWebSocket.instances).toHaveLength(count);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeWebSocket.instances).toHaveLength(count + 1);
  });
});
