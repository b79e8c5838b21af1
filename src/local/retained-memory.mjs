// Plain JavaScript: the dynalite and sandbox workers use it before (or without) a TypeScript loader.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

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
