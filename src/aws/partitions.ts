/**
 * The DNS suffix of an AWS region's partition, as the SDK's partition table
 * (@aws-sdk/core, partitions) gives it: the hosts built here (the Management API's execute-api
 * host, DynamoDB's public endpoint) live under it.
 */
const PARTITION_SUFFIXES: [RegExp, string][] = [
  [/^cn-/, 'amazonaws.com.cn'],
  [/^eusc-/, 'amazonaws.eu'],
  [/^us-iso-/, 'c2s.ic.gov'],
  [/^us-isob-/, 'sc2s.sgov.gov'],
  [/^eu-isoe-/, 'cloud.adc-e.uk'],
  [/^us-isof-/, 'csp.hci.ic.gov'],
];

export function dnsSuffix(region: string): string {
  return PARTITION_SUFFIXES.find(([pattern]) => pattern.test(region))?.[1] ?? 'amazonaws.com';
}
