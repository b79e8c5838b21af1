/** A pool member: the pool only needs to know whether it is still in service. */
export interface PoolMember {
  readonly alive: boolean;
}

export interface SandboxPoolOptions<S extends PoolMember> {
  /** Members at most: acquisitions beyond wait for a free one. */
  maxConcurrency: number;
  /** Starts a member; it calls `gone` the moment it leaves service on its own (crash, timeout). */
  start(gone: (member: S) => void): Promise<S>;
  /** Stops a member; whatever it runs fails with `error`. */
  stop(member: S, error: Error): Promise<void>;
  /** The error acquisitions fail with once the pool is closed. */
  closedError(): Error;
}

/** Sandboxes of one function, as Lambda scales them: reuse a warm one, start another on overlap. */
export interface SandboxPool<S extends PoolMember> {
  /** An idle member (the warmest), a new one while under maxConcurrency, or the next one freed. */
  acquire(): Promise<S>;
  /** Hands a member back after its invocation; one that left service is not reused. */
  release(member: S): void;
  /** Stops every member; acquisitions waiting and later ones fail with `closedError()`. */
  close(): Promise<void>;
}

interface Waiter<S> {
  resolve(member: S): void;
  reject(error: Error): void;
}

/**
 * Resolves once one warm member runs (start errors surface now, the first request is fast).
 * A member that leaves service is dropped at once; a replacement starts when one is wanted.
 */
export async function createSandboxPool<S extends PoolMember>(options: SandboxPoolOptions<S>): Promise<SandboxPool<S>> {
  /** Insertion order: the first idle one has run longest, its code is the warmest. */
  const members = new Set<S>();
  const busy = new Set<S>();
  const waiting: Waiter<S>[] = [];
  let starting = 0;
  let closed = false;

  const gone = (member: S): void => {
    members.delete(member);
    busy.delete(member);
    pump();
  };

  const launch = (): void => {
    starting++;
    options.start(gone).then(
      (member) => {
        starting--;
        if (closed) return void options.stop(member, options.closedError());
        // It may have died between starting and now.
        if (member.alive) members.add(member);
        pump();
      },
      (error: Error) => {
        starting--;
        waiting.shift()?.reject(error);
        pump();
      },
    );
  };

  /** Hands idle members to waiting acquisitions and starts new ones while allowed. */
  const pump = (): void => {
    while (waiting.length > 0) {
      const idle = firstIdle();
      if (idle) {
        busy.add(idle);
        waiting.shift()!.resolve(idle);
      } else if (members.size + starting < options.maxConcurrency && starting < waiting.length) {
        launch();
      } else {
        return;
      }
    }
  };

  const firstIdle = (): S | undefined => {
    for (const member of members) if (!busy.has(member)) return member;
    return undefined;
  };

  const first = await options.start(gone);
  if (first.alive) members.add(first);

  return {
    acquire: () =>
      new Promise<S>((resolve, reject) => {
        if (closed) return reject(options.closedError());
        waiting.push({ resolve, reject });
        pump();
      }),
    release(member) {
      busy.delete(member);
      pump();
    },
    async close() {
      closed = true;
      const error = options.closedError();
      for (const waiter of waiting.splice(0)) waiter.reject(error);
      const all = [...members];
      await Promise.all(all.map((member) => options.stop(member, error)));
    },
  };
}
