import type { MessagePort } from 'node:worker_threads';

/** The message a probe sends a thread, and the type of its answer. */
export const MEMORY_PROBE: 'memory-probe';
/** A full garbage collection on the calling thread; the heap + external bytes it still holds. */
export function retainedBytesAfterGc(): number;
/** Lets a worker thread answer memory probes from its parent. */
export function answerMemoryProbes(port: MessagePort): void;
