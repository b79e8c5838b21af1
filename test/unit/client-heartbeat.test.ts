import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { connectedClient, FakeWebSocket, settle } from '../helpers/fake-websocket.js';

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
});
afterEach(() => vi.useRealTimers());

describe('heartbeat', () => {
  it('pings every heartbeatIntervalMs, 5 minutes by default (below the 10-minute idle timeout)', async () => {
    const { socket } = await connectedClient();

    await vi.advanceTimersByTimeAsync(5 * 60_000 - 1);
    expect(socket.sentOf('ping')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(socket.sentOf('ping')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(socket.sentOf('ping')).toHaveLength(2);
  });

  it('a connection that answers its pings stays', async () => {
    const { client, socket } = await connectedClient({ heartbeatIntervalMs: 1000, pongTimeoutMs: 500 });

    await vi.advanceTimersByTimeAsync(10_000);

    expect(socket.sentOf('ping')).toHaveLength(10);
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(client.state).toBe('connected');
  });

  it('no pong within pongTimeoutMs: the connection is closed and replaced', async () => {
    const { client, socket } = await connectedClient({ heartbeatIntervalMs: 1000, pongTimeoutMs: 500 });
    const reasons: (string | undefined)[] = [];
    client.on('state', (event) => reasons.push(event.reason));
    FakeWebSocket.autoPong = false;

    await vi.advanceTimersByTimeAsync(1499);
    expect(socket.closedWith).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);

    expect(socket.closedWith).toEqual({ code: 4000, reason: 'heartbeat timeout' });
    expect(reasons).toEqual(['heartbeat timeout']);
    await vi.advanceTimersByTimeAsync(250);
    expect(FakeWebSocket.instances).toHaveLength(2);
    FakeWebSocket.last.open();
    await settle();
    expect(client.state).toBe('connected');
  });

  it('a ping still waiting for its pong does not hold the next one back: the connection never goes an interval without a frame', async () => {
    const { socket } = await connectedClient({ heartbeatIntervalMs: 1000, pongTimeoutMs: 2500 });
    FakeWebSocket.autoPong = false;

    await vi.advanceTimersByTimeAsync(2000);

    expect(socket.sentOf('ping')).toHaveLength(2);
    expect(socket.closedWith).toBeUndefined();
  });

  it('after a handover, the first ping is due an interval after the new connection’s last frame, not after its adoption', async () => {
    const { client, socket: old } = await connectedClient({ heartbeatIntervalMs: 3000, maxConnectionMs: 60_000 });
    client.subscribe('chat:a', () => {});
    old.subscribed('chat:a', 0);
    await vi.advanceTimersByTimeAsync(60_000);
    const next = FakeWebSocket.last;
    next.open();
    await settle(); // it sends its subscribe now

    await vi.advanceTimersByTimeAsync(2000); // a slow resubscribe
    next.subscribed('chat:a', 0, 'e1', true);
    await settle();
    await vi.advanceTimersByTimeAsync(999);
    expect(next.sentOf('ping')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);

    expect(next.sentOf('ping')).toHaveLength(1);
  });
});
