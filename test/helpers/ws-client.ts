import WebSocket from 'ws';

/** A real `ws` client that queues what it receives, so tests can await the next frame. */
export interface TestClient {
  socket: WebSocket;
  /** Resolves with the next text frame (parsed JSON when it parses). */
  next(timeoutMs?: number): Promise<any>;
  /** Resolves with the first frame, queued or still to come, that `matches`; other frames stay queued. */
  nextMatching(matches: (frame: any) => boolean, timeoutMs?: number, what?: string): Promise<any>;
  /**
   * Sends `frame` with an `id` (its own, else a fresh `r<n>`) and resolves with the direct reply
   * carrying that id (not a `message` frame, whose `id` is the message's); other frames stay queued.
   */
  request(frame: Record<string, unknown>, timeoutMs?: number): Promise<any>;
  /**
   * Like request, for replies that come in pages (history, presence): every frame with the id,
   * up to the first without `"more": true` (an error ends it too).
   */
  requestPages(frame: Record<string, unknown>, timeoutMs?: number): Promise<any[]>;
  /** The size in bytes of a received frame as it came over the wire (undefined for frames not received here). */
  byteLength(frame: unknown): number | undefined;
  /** Waits `ms`, then takes every frame received and not yet taken: `[]` when nothing came. */
  settle(ms?: number): Promise<unknown[]>;
  /** Frames received and not yet taken by next(). */
  pending(): unknown[];
  send(frame: unknown): void;
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

interface Waiter {
  matches(frame: unknown): boolean;
  deliver(frame: unknown): void;
}

/** True for the direct reply to the client frame with `id`: same id, and not a published message. */
export function isReplyTo(id: string) {
  return (frame: any) => typeof frame === 'object' && frame !== null && frame.id === id && frame.type !== 'message';
}

/** Opens a connection; rejects with the HTTP status when the handshake is refused. */
export function connectClient(url: string, options: WebSocket.ClientOptions = {}): Promise<TestClient> {
  return new Promise((resolveClient, reject) => {
    const socket = new WebSocket(url, options);
    const queue: unknown[] = [];
    const waiters: Waiter[] = [];
    // Parsed frames lose their wire size; paging limits are about the wire.
    const sizes = new WeakMap<object, number>();
    let requests = 0;
    let resolveClosed!: (value: { code: number; reason: string }) => void;
    const closed = new Promise<{ code: number; reason: string }>((r) => (resolveClosed = r));
    socket.on('message', (data) => {
      const text = data.toString();
      let frame: unknown = text;
      try {
        frame = JSON.parse(text);
      } catch {
        // keep the raw text
      }
      if (typeof frame === 'object' && frame !== null) sizes.set(frame, Buffer.byteLength(text));
      const index = waiters.findIndex((waiter) => waiter.matches(frame));
      if (index === -1) queue.push(frame);
      else waiters.splice(index, 1)[0]!.deliver(frame);
    });
    socket.on('close', (code, reason) => resolveClosed({ code, reason: reason.toString() }));
    socket.on('unexpected-response', (_request, response) => {
      reject(
        Object.assign(new Error(`handshake refused with ${response.statusCode}`), { statusCode: response.statusCode }),
      );
      socket.terminate();
    });
    socket.on('error', reject);

    const nextMatching = (matches: (frame: any) => boolean, timeoutMs = 5000, what = 'frame'): Promise<any> => {
      const queued = queue.findIndex(matches);
      if (queued !== -1) return Promise.resolve(queue.splice(queued, 1)[0]);
      return new Promise((resolveFrame, rejectFrame) => {
        const waiter: Waiter = {
          matches,
          deliver(frame) {
            clearTimeout(timer);
            resolveFrame(frame);
          },
        };
        // The frames that did come say most about why the awaited one did not.
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          rejectFrame(new Error(`no ${what} within ${timeoutMs} ms; received meanwhile: ${JSON.stringify(queue)}`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    };
    const send = (frame: unknown) => socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    const sendWithId = (frame: Record<string, unknown>) => {
      const id = typeof frame.id === 'string' ? frame.id : `r${++requests}`;
      send({ ...frame, id });
      return id;
    };
    const awaitReply = (frame: Record<string, unknown>, id: string, timeoutMs?: number) =>
      nextMatching(isReplyTo(id), timeoutMs, `reply to ${JSON.stringify(frame.action)} id ${id}`);

    socket.on('open', () =>
      resolveClient({
        socket,
        pending: () => [...queue],
        next: (timeoutMs) => nextMatching(() => true, timeoutMs),
        nextMatching,
        request(frame, timeoutMs) {
          return awaitReply(frame, sendWithId(frame), timeoutMs);
        },
        async requestPages(frame, timeoutMs) {
          const id = sendWithId(frame);
          const pages = [await awaitReply(frame, id, timeoutMs)];
          while (pages.at(-1).more === true) pages.push(await awaitReply(frame, id, timeoutMs));
          return pages;
        },
        byteLength: (frame) => (typeof frame === 'object' && frame !== null ? sizes.get(frame) : undefined),
        async settle(ms = 300) {
          await new Promise((resolve) => setTimeout(resolve, ms));
          return queue.splice(0);
        },
        send,
        closed,
        async close() {
          if (socket.readyState === WebSocket.CLOSED) return;
          socket.close();
          await closed;
        },
      }),
    );
  });
}

/** The status a refused handshake answered with, or `connected` when it was accepted (and is closed again). */
export async function handshakeStatus(url: string): Promise<number | 'connected'> {
  try {
    const client = await connectClient(url);
    await client.close();
    return 'connected';
  } catch (error) {
    const { statusCode } = error as { statusCode?: number };
    if (statusCode === undefined) throw error;
    return statusCode;
  }
}

/** `promise`, or a rejection naming `what` after `timeoutMs`: a test that waits fails instead of hanging. */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
