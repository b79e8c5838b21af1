/**
 * What one channel's subscribers received, checked against what was published (the acks' offsets):
 * each subscriber must have every published offset exactly once, and no other.
 */
export interface OffsetAudit {
  /** Publications acknowledged on the channel (warm-up included). */
  published: number;
  subscribers: number;
  /** Published offsets a subscriber never received, summed over subscribers. */
  missing: number;
  /** Extra receipts of an offset a subscriber already had. */
  duplicated: number;
  /** Offsets received that no ack announced (another publisher, or a wrong offset). */
  foreign: number;
  /** The acks' offsets were distinct and consecutive: the channel's counter skipped or repeated none. */
  acksConsecutive: boolean;
}

/** Offset → times received, for one subscriber on one channel. */
export type Receipts = ReadonlyMap<number, number>;

/** Counts, for `receipts` (one entry per subscriber), how they differ from the `acked` offsets. */
export function auditOffsets(acked: readonly number[], receipts: readonly Receipts[]): OffsetAudit {
  const published = new Set(acked);
  let missing = 0;
  let duplicated = 0;
  let foreign = 0;
  for (const received of receipts) {
    for (const offset of published) if (!received.has(offset)) missing++;
    for (const [offset, times] of received) {
      if (published.has(offset)) duplicated += times - 1;
      else foreign += times;
    }
  }
  return {
    published: acked.length,
    subscribers: receipts.length,
    missing,
    duplicated,
    foreign,
    acksConsecutive: areConsecutive(acked),
  };
}

/** True when `offsets`, in any order, are n distinct integers with no gap. */
function areConsecutive(offsets: readonly number[]): boolean {
  const ascending = [...offsets].sort((a, b) => a - b);
  return ascending.every((offset, i) => i === 0 || offset === ascending[i - 1]! + 1);
}

/** Audit failures in one number: 0 when every subscriber got exactly the published offsets. */
export function offsetFlaws(audit: OffsetAudit): number {
  return audit.missing + audit.duplicated + audit.foreign + (audit.acksConsecutive ? 0 : 1);
}
