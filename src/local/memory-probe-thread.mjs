// The thread side of memory-probe.ts, for the dev server and each of its worker threads.
// Plain JavaScript: the dynalite and sandbox workers use it before (or without) a TypeScript loader.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** The message a probe sends a thread, and the type of its answer. */
export const MEMORY_PROBE = 'memory-probe';

/**
 * Runs a full garbage collection on the calling thread and returns the bytes it still holds
 * (heap + external), for `npm run bench`'s memory per connection.
 */
export function retainedBytesAfterGc() {
  setFlagsFromString('--expose-gc');
  runInNewContext('gc')();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

/**
 * Lets a worker thread answer memory probes: `{ type: 'memory-probe', id }` from its parent gets
 * `{ type: 'memory-probe', id, bytes }` back. The thread's own message handler ignores that type.
 * @param {import('node:worker_threads').MessagePort} port the worker's parentPort
 */
export function answerMemoryProbes(port) {
  port.on('message', (message) => {
    if (message?.type === MEMORY_PROBE)
      port.postMessage({ type: MEMORY_PROBE, id: message.id, bytes: retainedBytesAfterGc() });
  });
}
