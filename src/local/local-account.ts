import { partitionOf } from '../aws/partitions.js';

/** The account the emulator stands in for: `AWS::AccountId` and every ARN it builds use it. */
export const LOCAL_ACCOUNT_ID = '000000000000';

/** An ARN in the emulated account, in the region's partition. */
export function localArn(service: string, region: string, resource: string): string {
  return `arn:${partitionOf(region).id}:${service}:${region}:${LOCAL_ACCOUNT_ID}:${resource}`;
}
