import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay } from '../../src/client/backoff.js';
import { createClient, type StateEvent } from '../../src/client/index.js';
import { connectedClient, FakeWebSocket, messageAt, settle } from '../helpers/fake-websocket.js';

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
});
afterEach(() => vi.useRealTimers());

describe('backoff with full jitter', () => {
  it('is random(0, min(cap, base * 2^attempt))', () => {
    expect(backoffDelay(0, 500, 30_000, () => 0)).toBe(0);
    expect(backoffDelay(0, 500, 30_000, () => 0.999999)).toBe(499);
    expect(backoffDelay(3, 500, 30_000, () => 0.5)).toBe(2000);
    expect(backoffDelay(10, 500, 30_000, () => 0.999999)).toBe(29_999);
  });

  it('the client waits the jittered delay, doubling per failed attempt, from the configured base', async () => {
    const { socket } = await connectedClient({ backoff: { baseMs: 1000, capMs: 60_000 }, random: () => 0.5 });
    socket.drop();

    await vi.advanceTimersByTimeAsync(499);
    expect(FakeWebSocket.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeWebSocket.instances).toHaveLength(2);

    FakeWebSocket.last.fail('connect ECONNREFUSED');
    await vi.advanceTimersByTimeAsync(999);
    expect(FakeWebSocket.instances).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeWebSocket.instances).toHaveLength(3);
  });

  it('the attempt count starts over once a connection opens', async () => {
    const { socket } = await connectedClient({ random: () => 0.5 });
    socket.drop();
    await vi.advanceTimersByTimeAsync(250);
    FakeWebSocket.last.fail('connect ECONNREFUSED');
    await vi.advanceTimersByTimeAsync(500);
    FakeWebSocket.last.open();
    await settle();

    FakeWebSocket.last.drop();
    await vi.advanceTimersByTimeAsync(250);

    expect(FakeWebSocket.instances).toHaveLength(4);
  });
});

describe('reconnecting', () => {
  it('asks the token function for a fresh token on every attempt and passes it as ?token=', async () => {
    let issued = 0;
    const { socket } = await connectedClient({ token: async () => `t${++issued}` });
    expect(socket.token).toBe('t1');

    socket.drop(1000, 'deleted');
    await vi.advanceTimersByTimeAsync(250);

    expect(FakeWebSocket.last.token).toBe('t2');
  });

  it('reports the states with their reasons', async () => {
    const states: StateEvent[] = [];
    const client = createClient({ url: 'wss://relay.test', WebSocket: FakeWebSocket, random: () => 0 });
    client.on('state', (event) => states.push(event));
    await settle();
    expect(client.state).toBe('connecting');

    FakeWebSocket.last.open();
    await settle();
    FakeWebSocket.last.drop(1001, 'Going away');
    await settle();
    FakeWebSocket.last.open();
    await settle();
    client.close();

    expect(states).toEqual([
      { state: 'connected', reason: undefined },
      { state: 'reconnecting', reason: 'closed 1001: Going away' },
      { state: 'connected', reason: undefined },
      { state: 'closed', reason: 'closed by the client' },
    ]);
  });

  it('does not reconnect after close()', async () => {
    const { client, socket } = await connectedClient();

    client.close();
    socket.drop(1000);
    await vi.advanceTimersByTimeAsync(60_000);

    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(socket.closedWith?.code).toBe(1000);
    expect(client.state).toBe('closed');
  });

  it('does not reconnect after a handshake refused with 401 (as ws reports it)', async () => {
    const { client, socket } = await connectedClient();
    socket.drop();
    await vi.advanceTimersByTimeAsync(250);

    FakeWebSocket.last.fail('Unexpected server response: 401');
    await vi.advanceTimersByTimeAsync(60_000);

    expect(FakeWebSocket.instances).toHaveLength(2);
    expect(client.state).toBe('closed');
  });

  it('in a browser (no status): failures before open are retried for as long as they last (an outage looks the same)', async () => {
    const states: StateEvent[] = [];
    // publishTimeoutMs (the handshake's too) beyond the cap: each attempt here fails, none hangs.
    const client = createClient({
      url: 'wss://relay.test',
      WebSocket: FakeWebSocket,
      random: () => 0.999,
      publishTimeoutMs: 60_000,
    });
    client.on('state', (event) => states.push(event));
    // Thirty failures: over 10 minutes at the default 30 s cap.
    for (let attempt = 0; attempt < 30; attempt++) {
      await settle();
      FakeWebSocket.last.fail();
      await vi.advanceTimersByTimeAsync(30_000);
    }
    expect(FakeWebSocket.instances).toHaveLength(31);
    expect(client.state).toBe('connecting');

    FakeWebSocket.last.open();
    await settle();

    expect(client.state).toBe('connected');
    expect(states.at(-2)).toEqual({ state: 'connecting', reason: 'connect failed: closed 1006' });
    client.close();
  });

  it('isRefused is asked after each unexplained failure, with the token and the count; true closes the client', async () => {
    let issued = 0;
    const asked: unknown[] = [];
    const client = createClient({
      url: 'wss://relay.test',
      WebSocket: FakeWebSocket,
      random: () => 0,
      token: () => `t${++issued}`,
      isRefused: (failure) => {
        asked.push(failure);
        return failure.failures === 3;
      },
    });
    for (let attempt = 0; attempt < 3; attempt++) {
      await settle();
      FakeWebSocket.last.fail();
    }
    await vi.advanceTimersByTimeAsync(60_000);

    expect(asked).toEqual([
      { token: 't1', failures: 1 },
      { token: 't2', failures: 2 },
      { token: 't3', failures: 3 },
    ]);
    expect(FakeWebSocket.instances).toHaveLength(3);
    expect(client.state).toBe('closed');
  });

  it('an isRefused that fails, or says false, keeps the client retrying; an open starts the count over', async () => {
    const asked: number[] = [];
    const client = createClient({
      url: 'wss://relay.test',
      WebSocket: FakeWebSocket,
      random: () => 0,
      isRefused: async ({ failures }) => {
        asked.push(failures);
        if (failures === 1) throw new Error('check unavailable');
        return false;
      },
    });
    await settle();
    FakeWebSocket.last.fail();
    await settle();
    FakeWebSocket.last.fail();
    await settle();
    FakeWebSocket.last.open();
    await settle();
    FakeWebSocket.last.drop();
    await settle();
    FakeWebSocket.last.fail();
    await settle();

    expect(asked).toEqual([1, 2, 1]);
    expect(client.state).toBe('reconnecting');
    client.close();
  });

  it('failures the runtime explains (a network error) are never put to isRefused', async () => {
    const isRefused = vi.fn(() => true);
    const client = createClient({ url: 'wss://relay.test', WebSocket: FakeWebSocket, random: () => 0, isRefused });
    for (let attempt = 0; attempt < 5; attempt++) {
      await settle();
      FakeWebSocket.last.fail('getaddrinfo ENOTFOUND relay.test');
    }
    await settle();

    expect(isRefused).not.toHaveBeenCalled();
    expect(FakeWebSocket.instances).toHaveLength(6);
    expect(client.state).toBe('connecting');
    client.close();
  });
});

describe('a handshake that hangs', () => {
  it('is given up after publishTimeoutMs and tried again with backoff', async () => {
    const states: StateEvent[] = [];
    const client = createClient({
      url: 'wss://relay.test',
      WebSocket: FakeWebSocket,
      random: () => 0,
      publishTimeoutMs: 3000,
    });
    client.on('state', (event) => states.push(event));
    await settle();
    const hung = FakeWebSocket.last;

    await vi.advanceTimersByTimeAsync(3000);
    await vi.advanceTimersByTimeAsync(1); // the retry, after a backoff of 0

    expect(hung.closedWith).toEqual({ code: 1000, reason: 'handshake timeout' });
    expect(FakeWebSocket.instances).toHaveLength(2);
    expect(states).toEqual([{ state: 'connecting', reason: 'connect failed: no handshake within 3000 ms' }]);
    FakeWebSocket.last.open();
    await settle();
    expect(client.state).toBe('connected');
  });
});

describe('refusal edge cases', () => {
  it('while the browser is offline, failures before open are not put to isRefused', async () => {
    vi.stubGlobal('navigator', { onLine: false });
    try {
      const isRefused = vi.fn(() => true);
      const client = createClient({ url: 'wss://relay.test', WebSocket: FakeWebSocket, random: () => 0, isRefused });
      for (let attempt = 0; attempt < 4; attempt++) {
        await settle();
        FakeWebSocket.last.fail();
      }
      await settle();

      expect(isRefused).not.toHaveBeenCalled();
      expect(FakeWebSocket.instances).toHaveLength(5);
      expect(client.state).toBe('connecting');
      client.close();
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('a token function that fails is retried with backoff, without opening a socket', async () => {
    let calls = 0;
    const client = createClient({
      url: 'wss://relay.test',
      WebSocket: FakeWebSocket,
      random: () => 0.5,
      token: async () => {
        if (++calls === 1) throw new Error('token service down');
        return 'fresh';
      },
    });
    const reasons: (string | undefined)[] = [];
    client.on('state', (event) => reasons.push(event.reason));
    await settle();
    expect(FakeWebSocket.instances).toHaveLength(0);

    await vi.advanceTimersByTimeAsync(250);

    expect(FakeWebSocket.last.token).toBe('fresh');
    client.close();
    expect(reasons).toEqual(['connect failed: token service down', 'closed by the client']);
  });
});

describe('resubscribing', () => {
  it('resubscribes with since = the last offset delivered contiguously, and reports recovered', async () => {
    const { client, socket } = await connectedClient();
    const delivered: number[] = [];
    const recovered: boolean[] = [];
    client.subscribe('chat:a', (m) => delivered.push(m.offset), { onRecovered: (r) => recovered.push(r) });
    socket.subscribed('chat:a', 10);
    socket.receive(messageAt('chat:a', 11));
    socket.receive(messageAt('chat:a', 13)); // 12 is missing: 11 is the last contiguous one

    socket.drop();
    await vi.advanceTimersByTimeAsync(250);
    const next = FakeWebSocket.last;
    next.open();
    await settle();

    expect(next.lastSent('subscribe')).toMatchObject({ channel: 'chat:a', since: { offset: 11, epoch: 'e1' } });
    next.subscribed('chat:a', 13, 'e1', true);
    next.receive(messageAt('chat:a', 12));
    next.receive(messageAt('chat:a', 13));
    await settle();
    expect(delivered).toEqual([11, 12, 13]);
    expect(recovered).toEqual([true]);
  });

  it('surfaces recovered: false to the subscriber', async () => {
    const { client, socket } = await connectedClient();
    const recovered: boolean[] = [];
    client.subscribe('chat:a', () => {}, { onRecovered: (r) => recovered.push(r) });
    socket.subscribed('chat:a', 3);

    socket.drop();
    await vi.advanceTimersByTimeAsync(250);
    FakeWebSocket.last.open();
    await settle();
    FakeWebSocket.last.subscribed('chat:a', 500, 'e2', false);
    await settle();

    expect(recovered).toEqual([false]);
  });

  it('a subscription unsubscribed while disconnected is not restored', async () => {
    const { client, socket } = await connectedClient();
    const sub = client.subscribe('chat:a', () => {});
    socket.subscribed('chat:a', 0);
    socket.drop();
    sub.unsubscribe();

    await vi.advanceTimersByTimeAsync(250);
    FakeWebSocket.last.open();
    await settle();

    expect(FakeWebSocket.last.sentOf('subscribe')).toEqual([]);
  });

  it('a refused subscribe reaches onError with its code', async () => {
    const { client, socket } = await connectedClient();
    const errors: unknown[] = [];
    client.subscribe('user:bob', () => {}, { onError: (error) => errors.push(error) });
    const { id } = socket.lastSent('subscribe');

    socket.receive({ type: 'error', id, code: 'forbidden', message: 'not yours' });
    await settle();

    expect(errors).toEqual([expect.objectContaining({ code: 'forbidden', message: 'not yours' })]);
  });
});

describe('onSubscribed', () => {
  it('tells every subscribed reply with its position', async () => {
    const { client, socket } = await connectedClient();
    const positions: unknown[] = [];
    client.subscribe('chat:a', () => {}, { onSubscribed: (position) => positions.push(position) });

    socket.subscribed('chat:a', 7);
    await settle();

    expect(positions).toEqual([{ offset: 7, epoch: 'e1' }]);
  });
});

describe('a subscribe nobody answers', () => {
  it('on a dead connection (no pong either): replaces it, and resubscribes', async () => {
    const { client, socket } = await connectedClient({ publishTimeoutMs: 3000, pongTimeoutMs: 1000 });
    FakeWebSocket.autoPong = false;
    const states: StateEvent[] = [];
    client.on('state', (event) => states.push(event));
    client.subscribe('chat:a', () => {});

    await vi.advanceTimersByTimeAsync(3000);
    expect(socket.lastSent('ping')).toBeDefined();
    expect(socket.closedWith).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1000);

    expect(socket.closedWith).toEqual({ code: 4000, reason: 'subscribe timeout' });
    expect(states).toEqual([{ state: 'reconnecting', reason: 'no reply to subscribe' }]);
    await vi.advanceTimersByTimeAsync(250);
    FakeWebSocket.last.open();
    await settle();
    expect(FakeWebSocket.last.lastSent('subscribe').channel).toBe('chat:a');
  });

  it('on a live connection (API Gateway answered without an id: throttled): keeps it, and tries that channel again with backoff', async () => {
    const { client, socket } = await connectedClient({ publishTimeoutMs: 3000, random: () => 0.5 });
    const errors: unknown[] = [];
    client.on('error', (error) => errors.push(error));
    const delivered: number[] = [];
    client.subscribe('chat:a', (m) => delivered.push(m.offset));
    socket.receive({ message: 'Too Many Requests', connectionId: 'c1', requestId: 'r1' });

    await vi.advanceTimersByTimeAsync(3000 + 250); // timed out, pong, then backoff attempt 0: 250 ms
    expect(socket.sentOf('subscribe')).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(3000 + 499); // unanswered again: attempt 1, 500 ms
    expect(socket.sentOf('subscribe')).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(socket.sentOf('subscribe')).toHaveLength(3);
    socket.subscribed('chat:a', 0);
    socket.receive(messageAt('chat:a', 1));
    await settle();

    expect(socket.closedWith).toBeUndefined();
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(delivered).toEqual([1]);
    expect(errors).toEqual([expect.objectContaining({ code: 'gateway_error', message: 'Too Many Requests' })]);
  });

  it('the reconnect backoff does not start over on each open while subscribes go unanswered', async () => {
    const { client, socket } = await connectedClient({
      publishTimeoutMs: 1000,
      pongTimeoutMs: 1000,
      random: () => 0.5,
    });
    FakeWebSocket.autoPong = false;
    client.subscribe('chat:a', () => {});
    await vi.advanceTimersByTimeAsync(2000);
    expect(socket.closedWith?.reason).toBe('subscribe timeout');
    const opened = () => FakeWebSocket.instances.length;

    // attempt 0: 250 ms; then it opens and times out again; attempt 1: 500 ms
    await vi.advanceTimersByTimeAsync(250);
    expect(opened()).toBe(2);
    FakeWebSocket.last.open();
    await vi.advanceTimersByTimeAsync(2000);
    await vi.advanceTimersByTimeAsync(499);
    expect(opened()).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(opened()).toBe(3);

    // Answered this time: the next loss starts from the base again.
    FakeWebSocket.last.open();
    await settle();
    FakeWebSocket.last.subscribed('chat:a', 0);
    await settle();
    FakeWebSocket.last.drop();
    await vi.advanceTimersByTimeAsync(250);
    expect(opened()).toBe(4);
    client.close();
  });

  it('an unsubscribed channel whose subscribe times out does not replace the connection', async () => {
    const { client, socket } = await connectedClient({ publishTimeoutMs: 1000 });
    FakeWebSocket.autoPong = false;
    const sub = client.subscribe('chat:a', () => {});
    sub.unsubscribe();

    await vi.advanceTimersByTimeAsync(20_000);

    expect(socket.closedWith).toBeUndefined();
    expect(client.state).toBe('connected');
  });

  it('a refused subscribe ends the subscription: it is not sent again on the next connection', async () => {
    const { client, socket } = await connectedClient();
    client.subscribe('user:bob', () => {}, { onError: () => {} });
    socket.receive({ type: 'error', id: socket.lastSent('subscribe').id, code: 'forbidden', message: 'not yours' });
    await settle();

    socket.drop();
    await vi.advanceTimersByTimeAsync(250);
    FakeWebSocket.last.open();
    await settle();

    expect(FakeWebSocket.last.sentOf('subscribe')).toEqual([]);
  });
});
