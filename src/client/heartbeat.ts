import type { Connection } from './connection.js';

export interface HeartbeatOptions {
  intervalMs: number;
  timeoutMs: number;
  /** No pong in time: after a network change a socket can stay "open" while nothing gets through. */
  onDead(): void;
}

/** Pings `connection` every interval (a client frame resets API Gateway's idle timer); returns stop. */
export function startHeartbeat(connection: Connection, options: HeartbeatOptions): () => void {
  let pongTimer: ReturnType<typeof setTimeout> | undefined;
  const interval = setInterval(() => {
    if (pongTimer) return;
    pongTimer = setTimeout(options.onDead, options.timeoutMs);
    connection.request({ action: 'ping' }).then(
      () => {
        clearTimeout(pongTimer);
        pongTimer = undefined;
      },
      () => {}, // closed meanwhile: whoever closed it deals with that
    );
  }, options.intervalMs);
  return () => {
    clearInterval(interval);
    clearTimeout(pongTimer);
  };
}
