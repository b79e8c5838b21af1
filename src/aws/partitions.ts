import { partition } from '@aws-sdk/util-endpoints';

/** A region's partition as the SDK's own table gives it (the one its endpoint rules use). */
export interface Partition {
  /** What ARNs carry: aws, aws-cn, aws-us-gov, aws-iso, ... */
  id: string;
  /** What the partition's hosts end with: amazonaws.com, amazonaws.com.cn, c2s.ic.gov, ... */
  dnsSuffix: string;
}

/** The partition of `region`; a region the SDK does not know is in `aws`, as the SDK assumes. */
export function partitionOf(region: string): Partition {
  const { name, dnsSuffix } = partition(region);
  return { id: name, dnsSuffix };
}

/** The DNS suffix of `region`'s partition (execute-api hosts live under it). */
export function dnsSuffix(region: string): string {
  return partition(region).dnsSuffix;
}
