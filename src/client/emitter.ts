/** A minimal typed event emitter; `on` returns the function that removes the listener. */
export function createEmitter<E>() {
  const listeners = new Map<keyof E, Set<(value: never) => void>>();
  return {
    on<K extends keyof E>(name: K, listener: (value: E[K]) => void): () => void {
      const set = listeners.get(name) ?? new Set();
      listeners.set(name, set);
      set.add(listener);
      return () => set.delete(listener);
    },
    emit<K extends keyof E>(name: K, value: E[K]): void {
      for (const listener of listeners.get(name) ?? []) safely(listener as (value: E[K]) => void, value);
    },
  };
}

/** Runs an application callback; its exception must not break the library's bookkeeping, so it is rethrown later. */
export function safely<T>(callback: ((value: T) => void) | undefined, value: T): void {
  try {
    callback?.(value);
  } catch (error) {
    setTimeout(() => {
      throw error;
    });
  }
}
