import type { Worker } from 'node:worker_threads';
import { MEMORY_PROBE, retainedBytesAfterGc } from './memory-probe-thread.mjs';

/** Memory after a full collection: what the emulator and its threads really keep. */
export interface MemoryReport {
  rssBytes: number;
  /** Heap and external memory still in use: this thread and every thread watched. */
  retainedBytes: number;
}

/**
 * The one place `npm run bench`'s memory readings come from. Each part that starts a worker
 * thread (a sandbox, the embedded DynamoDB) hands it to `watch`; the thread itself calls
 * `answerMemoryProbes(parentPort)` (memory-probe-thread.mjs). Nothing else carries it.
 */
export interface MemoryProbes {
  /** Counts a worker thread in every report until it exits. */
  watch(worker: Worker): void;
  /** A full garbage collection here and in every watched thread; what is still held. */
  report(): Promise<MemoryReport>;
}

/** A thread busy past this (a handler in a long invocation) counts as 0 rather than stall the reading. */
const ANSWER_TIMEOUT_MS = 2_000;

export function createMemoryProbes(): MemoryProbes {
  const workers = new Set<Worker>();
  let nextId = 0;

  const probe = (worker: Worker): Promise<number> =>
    new Promise((resolve) => {
      const id = ++nextId;
      const done = (bytes: number) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        resolve(bytes);
      };
      const onMessage = (message: { type?: string; id?: number; bytes?: number }) => {
        if (message?.type === MEMORY_PROBE && message.id === id) done(message.bytes ?? 0);
      };
      const onExit = () => done(0);
      const timer = setTimeout(() => done(0), ANSWER_TIMEOUT_MS);
      worker.on('message', onMessage);
      worker.once('exit', onExit);
      worker.postMessage({ type: MEMORY_PROBE, id });
    });

  return {
    watch(worker) {
      workers.add(worker);
      worker.once('exit', () => workers.delete(worker));
    },
    async report() {
      const ownBytes = retainedBytesAfterGc();
      const threadBytes = await Promise.all([...workers].map(probe));
      return {
        rssBytes: process.memoryUsage().rss,
        retainedBytes: ownBytes + threadBytes.reduce((sum, bytes) => sum + bytes, 0),
      };
    },
  };
}
