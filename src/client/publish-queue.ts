import type { Connection } from './connection.js';
import { ClientError, codeOf } from './errors.js';
import type { Frame } from './types.js';

/**
 * Requests that must survive reconnects: publish (with its idempotencyKey, so a resend after a lost
 * ack is not delivered twice), history and presence (reads). Each is sent on the current connection,
 * resent on the next one when its connection drops, and rejected with `timeout` after `timeoutMs`.
 */
export interface PublishQueue {
  /** `bounded`: refused with `queue_full` when `maxQueued` bounded requests already wait for a connection. */
  request(frame: Frame, bounded: boolean): Promise<Frame[]>;
  /** Sends everything waiting on a connection that just opened. */
  flush(connection: Connection): void;
  rejectAll(error: Error): void;
}

export interface PublishQueueOptions {
  timeoutMs: number;
  maxQueued: number;
  /** `in_progress`: the first publish with this key is still being placed; try again after this. */
  retryDelayMs: number;
  current(): Connection | undefined;
}

interface Entry {
  frame: Frame;
  bounded: boolean;
  sent: boolean;
  /** Waiting out `retryDelayMs` after `in_progress`: the server has it, so it does not take a place in the queue. */
  retrying: boolean;
  timer?: ReturnType<typeof setTimeout>;
  resolve(pages: Frame[]): void;
  reject(error: Error): void;
}

export function createPublishQueue(options: PublishQueueOptions): PublishQueue {
  const entries = new Set<Entry>();

  const settle = (entry: Entry, outcome: () => void) => {
    clearTimeout(entry.timer);
    if (entries.delete(entry)) outcome();
  };

  const resendLater = (entry: Entry, delayMs: number, retrying: boolean) => {
    entry.sent = false;
    entry.retrying = retrying;
    setTimeout(() => {
      entry.retrying = false; // waiting for a connection from now on, if there is none
      const connection = options.current();
      if (connection && !entry.sent && entries.has(entry)) send(entry, connection);
    }, delayMs);
  };

  const send = (entry: Entry, connection: Connection) => {
    entry.sent = true;
    entry.retrying = false;
    connection.request(entry.frame).then(
      (pages) => settle(entry, () => entry.resolve(pages)),
      (error) => {
        if (!entries.has(entry)) return;
        if (codeOf(error) === 'disconnected') resendLater(entry, 0, false);
        else if (codeOf(error) === 'in_progress') resendLater(entry, options.retryDelayMs, true);
        else settle(entry, () => entry.reject(error));
      },
    );
  };

  return {
    request(frame, bounded) {
      const waiting = [...entries].filter((entry) => entry.bounded && !entry.sent && !entry.retrying).length;
      if (bounded && waiting >= options.maxQueued) {
        return Promise.reject(new ClientError('queue_full', `${waiting} publishes already wait for a connection`));
      }
      return new Promise((resolve, reject) => {
        const entry: Entry = { frame, bounded, sent: false, retrying: false, resolve, reject };
        entry.timer = setTimeout(
          () => settle(entry, () => reject(new ClientError('timeout', `no reply within ${options.timeoutMs} ms`))),
          options.timeoutMs,
        );
        entries.add(entry);
        const connection = options.current();
        if (connection) send(entry, connection);
      });
    },
    flush(connection) {
      // One waiting out `in_progress` is sent by its own timer, not at once.
      for (const entry of entries) if (!entry.sent && !entry.retrying) send(entry, connection);
    },
    rejectAll(error) {
      for (const entry of entries) settle(entry, () => entry.reject(error));
    },
  };
}
