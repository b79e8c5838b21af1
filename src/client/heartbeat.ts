import type { Connection } from './connection.js';
import { codeOf } from './errors.js';

export interface HeartbeatOptions {
  intervalMs: number;
  timeoutMs: number;
  /** No pong in time: after a network change a socket can stay "open" while nothing gets through. */
  onDead(): void;
}

/** Pings `connection` every interval (a client frame resets API Gateway's idle timer); returns stop. */
export function startHeartbeat(connection: Connection, options: HeartbeatOptions): () => void {
  let pinging = false;
  let stopped = false;
  const interval = setInterval(() => {
    if (pinging) return;
    pinging = true;
    connection.request({ action: 'ping' }, options.timeoutMs).then(
      () => {
        pinging = false;
      },
      (error) => {
        pinging = false;
        // Closed meanwhile: whoever closed it deals with that. Stopped: a handover's old connection, not ours.
        if (codeOf(error) === 'timeout' && !stopped) options.onDead();
      },
    );
  }, options.intervalMs);
  return () => {
    stopped = true;
    clearInterval(interval);
  };
}
