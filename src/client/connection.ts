import { ClientError } from './errors.js';
import type { Frame, WebSocketLike } from './types.js';

/** One WebSocket: request/reply by `id` (paged replies joined), everything else to `onFrame`. */
export interface Connection {
  /**
   * Resolves on open; rejects with ClientError `refused` (a 401/403 the runtime reported), `connect_failed`,
   * or `timeout` (no handshake within `handshakeTimeoutMs`: the socket is closed).
   */
  readonly opened: Promise<void>;
  readonly isOpen: boolean;
  /** When it opened (Date.now()); NaN before. */
  readonly openedAt: number;
  /** When the client last sent a frame on it, or when it opened: API Gateway's idle timer counts from then. */
  readonly lastSentAt: number;
  send(frame: Frame): void;
  /**
   * Every reply frame with the request's id, up to the one without `more: true`; an error frame rejects,
   * and so does no (complete) reply within `timeoutMs`, with `timeout`.
   */
  request(frame: Frame, timeoutMs?: number): Promise<Frame[]>;
  /** Closes at once: pending requests reject with `disconnected`, and onLost is not called. */
  close(code?: number, reason?: string): void;
}

export interface ConnectionHandlers {
  onFrame(frame: Frame): void;
  /** The open connection closed without close() (server, network, API Gateway limits). */
  onLost(reason: string): void;
}

interface Pending {
  pages: Frame[];
  resolve(pages: Frame[]): void;
  reject(error: Error): void;
}

// ws reports a refused handshake as "Unexpected server response: 401"; browsers report nothing.
const REFUSED = /\b40[13]\b/;

export function openConnection(
  WebSocket: new (url: string) => unknown,
  url: string,
  handlers: ConnectionHandlers,
  handshakeTimeoutMs: number,
): Connection {
  const socket = new WebSocket(url) as WebSocketLike;
  const pending = new Map<string, Pending>();
  let ids = 0;
  let state: 'opening' | 'open' | 'gone' = 'opening';
  let errorMessage: string | undefined;
  let openedAt = Number.NaN;
  let lastSentAt = Number.NaN;
  let resolveOpened!: () => void;
  let rejectOpened!: (error: Error) => void;
  const opened = new Promise<void>((resolve, reject) => {
    resolveOpened = resolve;
    rejectOpened = reject;
  });

  const failPending = () => {
    for (const request of pending.values()) request.reject(new ClientError('disconnected', 'the connection closed'));
    pending.clear();
  };
  const detach = () => {
    state = 'gone';
    socket.onopen = socket.onmessage = socket.onclose = null;
    // ws throws an 'error' nobody listens to (a close while still connecting): keep a listener.
    socket.onerror = () => {};
    failPending();
  };

  // A handshake that hangs (a half-open network) would stall reconnects and handovers for good.
  const handshakeTimer = setTimeout(() => {
    if (state !== 'opening') return;
    detach();
    socket.close(1000, 'handshake timeout');
    rejectOpened(new ClientError('timeout', `no handshake within ${handshakeTimeoutMs} ms`));
  }, handshakeTimeoutMs);
  void opened.then(
    () => clearTimeout(handshakeTimer),
    () => clearTimeout(handshakeTimer),
  );

  socket.onopen = () => {
    state = 'open';
    openedAt = lastSentAt = Date.now();
    resolveOpened();
  };
  socket.onerror = (event) => {
    errorMessage = (event as { message?: string } | undefined)?.message || errorMessage;
  };
  socket.onclose = ({ code, reason }) => {
    const wasOpen = state === 'open';
    detach();
    const why = `closed ${code}${reason ? `: ${reason}` : ''}`;
    if (wasOpen) return handlers.onLost(why);
    const refused = errorMessage !== undefined && REFUSED.test(errorMessage);
    rejectOpened(
      Object.assign(new ClientError(refused ? 'refused' : 'connect_failed', errorMessage ?? why), {
        explained: errorMessage !== undefined,
      }),
    );
  };
  socket.onmessage = ({ data }) => {
    let frame: Frame;
    try {
      frame = JSON.parse(String(data));
    } catch {
      return;
    }
    const request = frame.type !== 'message' && typeof frame.id === 'string' ? pending.get(frame.id) : undefined;
    if (!request) return handlers.onFrame(frame);
    if (frame.type === 'error') {
      pending.delete(frame.id);
      return request.reject(new ClientError(frame.code, frame.message));
    }
    request.pages.push(frame);
    if (frame.more === true) return;
    pending.delete(frame.id);
    request.resolve(request.pages);
  };

  const send = (frame: Frame) => {
    if (state !== 'open') throw new ClientError('disconnected', 'not connected');
    socket.send(JSON.stringify(frame));
    lastSentAt = Date.now();
  };

  return {
    opened,
    get isOpen() {
      return state === 'open';
    },
    get openedAt() {
      return openedAt;
    },
    get lastSentAt() {
      return lastSentAt;
    },
    send,
    request(frame, timeoutMs) {
      return new Promise((resolve, reject) => {
        const id = String(++ids);
        try {
          send({ ...frame, id });
        } catch (error) {
          return reject(error);
        }
        const timer =
          timeoutMs === undefined
            ? undefined
            : setTimeout(() => {
                // A reply coming later is no longer awaited: it goes to onFrame, which ignores it.
                if (pending.delete(id))
                  reject(new ClientError('timeout', `no reply to ${frame.action} within ${timeoutMs} ms`));
              }, timeoutMs);
        const settled =
          <T>(outcome: (value: T) => void) =>
          (value: T) => {
            clearTimeout(timer);
            outcome(value);
          };
        pending.set(id, { pages: [], resolve: settled(resolve), reject: settled(reject) });
      });
    },
    close(code = 1000, reason = '') {
      if (state === 'gone') return;
      const wasOpening = state === 'opening';
      detach();
      // A half-open socket may never finish the closing handshake: do not wait for it.
      socket.close(code, reason);
      if (wasOpening) rejectOpened(new ClientError('closed', 'closed before it opened'));
    },
  };
}
