/** A full garbage collection on the calling thread; the heap + external bytes it still holds. */
export function retainedBytesAfterGc(): number;
