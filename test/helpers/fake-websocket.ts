import { vi } from 'vitest';
import { type Client, type ClientOptions, createClient } from '../../src/client/index.js';

/**
 * A WebSocket double for the client library's unit tests: every instance is recorded, and the test
 * plays the server (open, receive, close) and reads what the client sent.
 */
export class FakeWebSocket {
  static instances: FakeWebSocket[] = [];
  /** Replies the "server" gives by itself: a pong to every ping unless a test turns it off. */
  static autoPong = true;

  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  readonly sent: any[] = [];
  closedWith: { code?: number; reason?: string } | undefined;

  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this);
  }

  static reset(): void {
    FakeWebSocket.instances = [];
    FakeWebSocket.autoPong = true;
  }

  /** The newest socket. */
  static get last(): FakeWebSocket {
    const socket = FakeWebSocket.instances.at(-1);
    if (!socket) throw new Error('no WebSocket was created');
    return socket;
  }

  /** The `token` query parameter the client connected with. */
  get token(): string | null {
    return new URL(this.url).searchParams.get('token');
  }

  send(data: string): void {
    const frame = JSON.parse(data);
    this.sent.push(frame);
    if (frame.action === 'ping' && FakeWebSocket.autoPong)
      queueMicrotask(() => this.receive({ type: 'pong', id: frame.id }));
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
  }

  open(): void {
    this.onopen?.({});
  }

  receive(frame: unknown): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  /** The server or the network closed it. */
  drop(code = 1006, reason = ''): void {
    this.onclose?.({ code, reason });
  }

  /** A handshake that fails before open; `message` is what ws says (browsers say nothing). */
  fail(message?: string): void {
    this.onerror?.(message === undefined ? {} : { message });
    this.onclose?.({ code: 1006, reason: '' });
  }

  /** Frames sent with this action. */
  sentOf(action: string): any[] {
    return this.sent.filter((frame) => frame.action === action);
  }

  /** The last frame sent with this action; throws when there is none. */
  lastSent(action: string): any {
    const frame = this.sentOf(action).at(-1);
    if (!frame) throw new Error(`no ${action} sent; sent: ${JSON.stringify(this.sent)}`);
    return frame;
  }

  /** Answers the last subscribe to `channel` with `subscribed`. */
  subscribed(channel: string, offset: number, epoch = 'e1', recovered?: boolean): void {
    const request = this.sent.filter((f) => f.action === 'subscribe' && f.channel === channel).at(-1);
    if (!request) throw new Error(`no subscribe to ${channel} sent`);
    this.receive({ type: 'subscribed', id: request.id, channel, position: { offset, epoch }, recovered });
  }
}

/** A message frame of `channel` at `offset`. */
export function messageAt(channel: string, offset: number, epoch = 'e1'): any {
  return { type: 'message', channel, id: `m${offset}`, data: offset, from: null, user: null, ts: 0, offset, epoch };
}

/** Lets the client's pending promises and zero-delay timers run (fake timers must be on). */
export async function settle(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

/** A client on FakeWebSocket, its first socket open (the token function, if any, already called). */
export async function connectedClient(
  options: Partial<ClientOptions> = {},
): Promise<{ client: Client; socket: FakeWebSocket }> {
  const client = createClient({
    url: 'wss://relay.test/local',
    WebSocket: FakeWebSocket,
    random: () => 0.5,
    ...options,
  });
  await settle();
  const socket = FakeWebSocket.last;
  socket.open();
  await settle();
  return { client, socket };
}
