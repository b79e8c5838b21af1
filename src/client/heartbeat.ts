import type { Connection } from './connection.js';
import { codeOf } from './errors.js';

export interface HeartbeatOptions {
  intervalMs: number;
  timeoutMs: number;
  /** No pong in time: after a network change a socket can stay "open" while nothing gets through. */
  onDead(): void;
}

/**
 * Pings `connection` every interval (a client frame resets API Gateway's idle timer); returns stop.
 * The first ping is due an interval after the last frame sent on it, not after this starts: a handover's
 * connection sent its subscribes a while before it is adopted. A ping still waiting for its pong does not
 * hold the next one back, or a slow pong would leave the connection silent for two intervals.
 */
export function startHeartbeat(connection: Connection, options: HeartbeatOptions): () => void {
  let stopped = false;
  let interval: ReturnType<typeof setInterval> | undefined;
  const ping = () => {
    connection.request({ action: 'ping' }, options.timeoutMs).catch((error) => {
      // Closed meanwhile: whoever closed it deals with that. Stopped: a handover's old connection, not ours.
      if (codeOf(error) === 'timeout' && !stopped) options.onDead();
    });
  };
  const firstDueMs = Math.max(0, connection.lastSentAt + options.intervalMs - Date.now());
  const first = setTimeout(() => {
    ping();
    interval = setInterval(ping, options.intervalMs);
  }, firstDueMs);
  return () => {
    stopped = true;
    clearTimeout(first);
    clearInterval(interval);
  };
}
