/**
 * AWS partitions as the SDK's partition table (@aws-sdk/core) gives them: the id that ARNs carry
 * and the DNS suffix the hosts built here (the Management API's execute-api host, DynamoDB's
 * public endpoint) live under. us-gov regions share the aws partition's suffix.
 */
interface Partition {
  id: string;
  dnsSuffix: string;
}

const PARTITIONS: [RegExp, Partition][] = [
  [/^cn-/, { id: 'aws-cn', dnsSuffix: 'amazonaws.com.cn' }],
  [/^us-gov-/, { id: 'aws-us-gov', dnsSuffix: 'amazonaws.com' }],
  [/^eusc-/, { id: 'aws-eusc', dnsSuffix: 'amazonaws.eu' }],
  [/^us-iso-/, { id: 'aws-iso', dnsSuffix: 'c2s.ic.gov' }],
  [/^us-isob-/, { id: 'aws-iso-b', dnsSuffix: 'sc2s.sgov.gov' }],
  [/^eu-isoe-/, { id: 'aws-iso-e', dnsSuffix: 'cloud.adc-e.uk' }],
  [/^us-isof-/, { id: 'aws-iso-f', dnsSuffix: 'csp.hci.ic.gov' }],
];
const AWS: Partition = { id: 'aws', dnsSuffix: 'amazonaws.com' };

export function partitionOf(region: string): Partition {
  return PARTITIONS.find(([pattern]) => pattern.test(region))?.[1] ?? AWS;
}

export function dnsSuffix(region: string): string {
  return partitionOf(region).dnsSuffix;
}
