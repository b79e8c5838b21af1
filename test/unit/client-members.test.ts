import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MemberEvent, Message } from '../../src/client/index.js';
import { connectedClient, FakeWebSocket, messageAt, settle } from '../helpers/fake-websocket.js';

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
});
afterEach(() => vi.useRealTimers());

const member = { connectionId: 'c2', userId: 'bob', info: { name: 'Bob' } };

describe('join, leave and other channels', () => {
  it('join and leave reach the client listeners and the subscription of that channel only', async () => {
    const { client, socket } = await connectedClient();
    const onClient: MemberEvent[] = [];
    const onA: string[] = [];
    const onB: string[] = [];
    client.on('join', (event) => onClient.push(event));
    client.on('leave', (event) => onClient.push(event));
    client.subscribe('chat:a', () => {}, { onJoin: () => onA.push('join'), onLeave: () => onA.push('leave') });
    client.subscribe('chat:b', () => {}, { onJoin: () => onB.push('join') });

    socket.receive({ type: 'join', channel: 'chat:a', member });
    socket.receive({ type: 'leave', channel: 'chat:a', member });

    expect(onClient.map((e) => e.type)).toEqual(['join', 'leave']);
    expect(onA).toEqual(['join', 'leave']);
    expect(onB).toEqual([]);
  });

  it('messages of channels the library did not subscribe (default, user:<sub>) reach client.on("message")', async () => {
    const { client, socket } = await connectedClient();
    const messages: Message[] = [];
    client.on('message', (message) => messages.push(message));

    socket.receive(messageAt('default', 3));

    expect(messages.map((m) => m.channel)).toEqual(['default']);
  });

  it('two subscriptions of one channel share its stream; the last unsubscribe tells the server', async () => {
    const { client, socket } = await connectedClient();
    const first: number[] = [];
    const second: number[] = [];
    const one = client.subscribe('chat:a', (m) => first.push(m.offset));
    const two = client.subscribe('chat:a', (m) => second.push(m.offset));
    socket.subscribed('chat:a', 0);
    await settle();
    socket.receive(messageAt('chat:a', 1));

    one.unsubscribe();
    socket.receive(messageAt('chat:a', 2));
    expect(socket.sentOf('unsubscribe')).toEqual([]);
    two.unsubscribe();

    expect(first).toEqual([1]);
    expect(second).toEqual([1, 2]);
    expect(socket.sentOf('subscribe')).toHaveLength(1);
    expect(socket.lastSent('unsubscribe').channel).toBe('chat:a');
  });

  it('a listener that throws does not stop delivery to the others', async () => {
    const { client, socket } = await connectedClient();
    const delivered: number[] = [];
    client.subscribe('chat:a', () => {
      throw new Error('application bug');
    });
    client.subscribe('chat:a', (m) => delivered.push(m.offset));
    socket.subscribed('chat:a', 0);
    await settle();

    socket.receive(messageAt('chat:a', 1));
    socket.receive(messageAt('chat:a', 2));

    expect(delivered).toEqual([1, 2]);
    // the error is rethrown on a later tick, where the application's error handler sees it
    expect(() => vi.runOnlyPendingTimers()).toThrow('application bug');
  });
});

describe("API Gateway's own frames", () => {
  it('a frame without a type (a failed route: "Internal server error") is told as an error event, code gateway_error', async () => {
    const { client, socket } = await connectedClient();
    const errors: unknown[] = [];
    client.on('error', (error) => errors.push(error));

    socket.receive({ message: 'Internal server error', connectionId: 'c1', requestId: 'r1' });

    expect(errors).toEqual([expect.objectContaining({ code: 'gateway_error', message: 'Internal server error' })]);
    expect(client.state).toBe('connected');
  });
});
