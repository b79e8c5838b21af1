import { safely } from './emitter.js';
import type { Message, Position } from './types.js';

/** Turns one channel's deliveries (live, replayed, retried: any order, repeats) into in-order, once-only delivery. */
export interface ChannelStream {
  /** Where a resubscribe resumes: the last offset delivered with every earlier one; undefined before the first `subscribed`. */
  since(): Position | undefined;
  /**
   * The `subscribed` reply; `recovered` is its field (absent on a subscribe without `since`). `seamless`:
   * a handover's, while the old connection stays live: what it has not delivered yet is still on its way.
   */
  subscribed(position: Position, recovered: boolean | undefined, seamless?: boolean): void;
  /** Delivered everything up to `position` (of this stream's epoch): a handover may close the old connection. */
  reached(position: Position): boolean;
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
  // The highest offset known to exist (a later connection's position): up to it, a missing one is a gap.
  let known = 0;
  // Held back: arrived ahead of a missing offset, or before the first `subscribed` told where the stream starts.
  let held = new Map<number, Message>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let filling = false;
  let stopped = false;
  // Counts restarts: a fill that was asked before one says nothing about the stream after it.
  let generation = 0;
  // Streams this one moved on from: a late message of one (a stale connection, a slow fill) must not move it back.
  const retired = new Set<string>();

  /** Where the first hole ends: the offset before the first held message, or the known bound. */
  const missingTo = () => (held.size > 0 ? Math.min(...held.keys()) - 1 : known);

  const drain = () => {
    const before = last;
    for (let next = held.get(last + 1); next; next = held.get(last + 1)) {
      held.delete(++last);
      if (!stopped) safely(options.deliver, next);
    }
    if (held.size === 0 && known <= last) {
      clearTimeout(timer);
      timer = undefined;
    } else if (!filling && !stopped && (!timer || last > before)) {
      // Every first hole gets the whole window: a later one must not inherit an earlier one's timer.
      clearTimeout(timer);
      timer = setTimeout(fillGap, options.gapWindowMs);
    }
  };

  const fillGap = async () => {
    timer = undefined;
    if (epoch === undefined) return;
    // Only what was already missing when the window ran out may be reported after this fill.
    const due = missingTo();
    const asked = generation;
    filling = true;
    try {
      for (const message of await options.fill({ offset: last, epoch })) accept(message);
    } catch {
      // not fillable now (no history capability, timeout): the gap is reported below
    }
    filling = false;
    if (stopped) return;
    const unfilled = Math.min(due, missingTo());
    if (asked === generation && unfilled > last) {
      safely(() => options.onGap(last + 1, unfilled), undefined);
      last = unfilled;
    }
    drain();
  };

  /** Starts over at `position` of a (possibly new) stream, keeping what was held of it beyond. */
  const restart = (position: Position) => {
    generation++;
    clearTimeout(timer);
    timer = undefined;
    if (epoch === position.epoch) {
      // The same stream: never back (a live message may have come before the reply that said where it stood).
      last = Math.max(last, position.offset);
      known = Math.max(known, position.offset);
    } else {
      if (epoch !== undefined) retired.add(epoch);
      epoch = position.epoch;
      last = known = position.offset;
    }
    held = new Map([...held].filter(([offset, message]) => message.epoch === epoch && offset > last));
  };

  const accept = (message: Message) => {
    if (retired.has(message.epoch)) return;
    if (epoch !== undefined && message.epoch !== epoch) {
      // The channel's stream was recreated: old offsets mean nothing, and what came in between is lost.
      if (!stopped) safely(options.onRecovered, false);
      restart({ epoch: message.epoch, offset: 0 });
    }
    if (message.offset > last && !held.has(message.offset)) held.set(message.offset, message);
  };

  return {
    since: () => (epoch === undefined ? undefined : { offset: last, epoch }),
    subscribed(position, recovered, seamless = false) {
      if (epoch === undefined) {
        restart(position);
      } else if (position.epoch !== epoch) {
        // The channel's stream was recreated meanwhile: what came in between is lost.
        safely(options.onRecovered, false);
        restart(position);
      } else if (recovered === true) {
        // Replayed after this reply, then live: nothing to wait for. A handover's is not news.
        if (!seamless) safely(options.onRecovered, true);
      } else if (recovered === undefined || seamless) {
        // No replay (a subscribe without `since`, or one the server could not recover, such as without the
        // history capability), but another connection is live: it delivers up to `position`, or history fills in.
        known = Math.max(known, position.offset);
      } else {
        safely(options.onRecovered, false);
        restart(position);
      }
      drain();
    },
    reached: (position) => epoch !== position.epoch || last >= position.offset,
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
