import WebSocket from 'ws';

/** A real `ws` client that queues what it receives, so tests can await the next frame. */
export interface TestClient {
  socket: WebSocket;
  /** Resolves with the next text frame (parsed JSON when it parses). */
  next(timeoutMs?: number): Promise<any>;
  /** Frames received and not yet taken by next(). */
  pending(): unknown[];
  send(frame: unknown): void;
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

/** Opens a connection; rejects with the HTTP status when the handshake is refused. */
export function connectClient(url: string, options: WebSocket.ClientOptions = {}): Promise<TestClient> {
  return new Promise((resolveClient, reject) => {
    const socket = new WebSocket(url, options);
    const queue: unknown[] = [];
    const waiters: ((frame: unknown) => void)[] = [];
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
      const waiter = waiters.shift();
      if (waiter) waiter(frame);
      else queue.push(frame);
    });
    socket.on('close', (code, reason) => resolveClosed({ code, reason: reason.toString() }));
    socket.on('unexpected-response', (_request, response) => {
      reject(
        Object.assign(new Error(`handshake refused with ${response.statusCode}`), { statusCode: response.statusCode }),
      );
      socket.terminate();
    });
    socket.on('error', reject);
    socket.on('open', () =>
      resolveClient({
        socket,
        pending: () => [...queue],
        next(timeoutMs = 5000) {
          if (queue.length > 0) return Promise.resolve(queue.shift());
          return new Promise((resolveFrame, rejectFrame) => {
            const timer = setTimeout(() => {
              waiters.splice(waiters.indexOf(done), 1);
              rejectFrame(new Error(`no frame within ${timeoutMs} ms`));
            }, timeoutMs);
            const done = (frame: unknown) => {
              clearTimeout(timer);
              resolveFrame(frame);
            };
            waiters.push(done);
          });
        },
        send: (frame) => socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
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
