import { safely } from './emitter.js';
import type { Message, Position } from './types.js';

/** Turns one channel's deliveries (live, replayed, retried: any order, repeats) into in-order, once-only delivery. */
export interface ChannelStream {
  /** Where a resubscribe resumes: the last offset delivered with every earlier one; undefined before the first `subscribed`. */
  since(): Position | undefined;
  /**
   * The `subscribed` reply; `recovered` is its field (absent on a first subscribe). `seamless`: a
   * handover's, while the old connection stayed live, so a successful recovery is not news to tell.
   */
  subscribed(position: Position, recovered: boolean | undefined, seamless?: boolean): void;
  receive(message: Message): void;
  stop(): void;
}

export interface ChannelStreamOptions {
  gapWindowMs: number;
  deliver(message: Message): void;
  /** Publications after `since` (the history request); a rejection leaves the gap unfilled. */
  fill(since: Position): Promise<Message[]>;
  onGap(from: number, to: number): void;
  onRecovered(recovered: boolean): void;
}

export function createChannelStream(options: ChannelStreamOptions): ChannelStream {
  let epoch: string | undefined;
  let last = 0;
  // Held back: arrived ahead of a missing offset, or before the first `subscribed` told where the stream starts.
  let held = new Map<number, Message>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let filling = false;
  let stopped = false;
  // Streams this one moved on from: a late message of one (a stale connection, a slow fill) must not move it back.
  const retired = new Set<string>();

  const drain = () => {
    for (let next = held.get(last + 1); next; next = held.get(last + 1)) {
      held.delete(++last);
      if (!stopped) safely(options.deliver, next);
    }
    if (held.size === 0) {
      clearTimeout(timer);
      timer = undefined;
    } else if (!timer && !filling && !stopped) {
      timer = setTimeout(fillGap, options.gapWindowMs);
    }
  };

  const fillGap = async () => {
    timer = undefined;
    if (epoch === undefined) return;
    filling = true;
    try {
      for (const message of await options.fill({ offset: last, epoch })) accept(message);
    } catch {
      // not fillable now (no history capability, timeout): the gap is reported below
    }
    filling = false;
    const waiting = Math.min(...held.keys());
    if (held.size > 0 && waiting > last + 1) {
      safely(() => options.onGap(last + 1, waiting - 1), undefined);
      last = waiting - 1;
    }
    drain();
  };

  /** Starts over at `position` of a (possibly new) stream, keeping what was held of it beyond. */
  const restart = (position: Position) => {
    if (epoch !== undefined && epoch !== position.epoch) retired.add(epoch);
    epoch = position.epoch;
    last = position.offset;
    held = new Map([...held].filter(([offset, message]) => message.epoch === epoch && offset > last));
  };

  const accept = (message: Message) => {
    if (retired.has(message.epoch)) return;
    if (epoch !== undefined && message.epoch !== epoch) {
      // The channel's stream was recreated: old offsets mean nothing, and what came in between is lost.
      safely(options.onRecovered, false);
      restart({ epoch: message.epoch, offset: 0 });
    }
    if (message.offset > last && !held.has(message.offset)) held.set(message.offset, message);
  };

  return {
    since: () => (epoch === undefined ? undefined : { offset: last, epoch }),
    subscribed(position, recovered, seamless = false) {
      if (epoch === undefined) {
        restart(position);
      } else if (recovered === undefined) {
        // A subscribe sent without `since` (a second connection during a handover): its position says
        // nothing of what this stream missed; only a new epoch does.
        if (position.epoch !== epoch) {
          safely(options.onRecovered, false);
          restart(position);
        }
      } else {
        if (recovered !== true || !seamless) safely(options.onRecovered, recovered === true);
        if (recovered !== true) restart(position);
      }
      drain();
    },
    receive(message) {
      accept(message);
      if (epoch !== undefined) drain();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
