import { ConnectionGoneError } from './errors.js';
import type { Clock, Logger, Member, Sender } from './ports.js';

/** How a fan-out went; `delivered + gone + failed` is the number of recipients tried. */
export interface FanoutResult {
  delivered: number;
  gone: number;
  failed: number;
}

export interface FanoutDeps {
  sender: Sender;
  /**
   * Forgets a connection that answered Gone: its record, every membership it lists and this
   * channel's (a membership can outlive its record), telling joinLeave channels it left.
   */
  forget: (connectionId: string, channel: string) => Promise<void>;
  logger: Logger;
  clock: Clock;
  /** At most this many deliveries in flight: Lambda has one socket pool, AWS throttles bursts. */
  concurrency: number;
}

/**
 * API Gateway answers GoneException for a connection whose $connect has not returned yet, and
 * $connect may take up to the 29 s integration timeout. Such a member is skipped, not pruned:
 * pruning it would leave an open connection that never receives another broadcast.
 */
export const CONNECT_GRACE_MS = 30_000;

/**
 * Sends `payload` to every member of `channel` yielded by `recipients`, at most `concurrency` at a
 * time. Pages are consumed as they arrive, so delivery starts before the last page is read.
 * Gone connections are pruned from the store, every membership they list and this channel's
 * (unless still connecting); other failures are
 * logged and skipped.
 */
export async function fanOut(
  channel: string,
  recipients: AsyncIterable<Member[]>,
  payload: string,
  deps: FanoutDeps,
  /** A member not to send to (the connection a join event is about). */
  except?: string,
): Promise<FanoutResult> {
  const result: FanoutResult = { delivered: 0, gone: 0, failed: 0 };

  const deliver = async ({ connectionId, connectedAt }: Member): Promise<void> => {
    try {
      await deps.sender.send(connectionId, payload);
      result.delivered++;
    } catch (error) {
      if (error instanceof ConnectionGoneError) {
        result.gone++;
        if (deps.clock.now() - connectedAt >= CONNECT_GRACE_MS) await prune(connectionId, channel, deps);
      } else {
        result.failed++;
        deps.logger.warn('delivery failed', { connectionId, error });
      }
    }
  };

  // A counting semaphore: O(1) per delivery. (Promise.race over the in-flight set would add a
  // reaction to every pending delivery each time, which at 64 in flight dominated the CPU.)
  let inFlight = 0;
  let slotFreed: (() => void) | undefined;
  const release = () => {
    inFlight--;
    slotFreed?.();
    slotFreed = undefined;
  };
  const nextRelease = () =>
    new Promise<void>((resolve) => {
      slotFreed = resolve;
    });

  try {
    for await (const page of recipients) {
      for (const member of page) {
        if (member.connectionId === except) continue;
        while (inFlight >= deps.concurrency) await nextRelease();
        inFlight++;
        // deliver() settles every error itself; a throwing logger must still free the slot.
        deliver(member).then(release, release);
      }
    }
  } finally {
    // Even when reading a later page fails, the deliveries already started finish first.
    while (inFlight > 0) await nextRelease();
  }
  return result;
}

async function prune(connectionId: string, channel: string, deps: FanoutDeps): Promise<void> {
  try {
    await deps.forget(connectionId, channel);
  } catch (error) {
    // TTL removes it eventually; a failed prune must not fail the broadcast.
    deps.logger.warn('could not prune gone connection', { connectionId, error });
  }
}
