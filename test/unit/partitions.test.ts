import { describe, expect, it } from 'vitest';
import { dnsSuffix, partitionOf } from '../../src/aws/partitions.js';

describe("partitions, from the SDK's table", () => {
  it.each([
    ['eu-west-1', 'aws', 'amazonaws.com'],
    ['cn-north-1', 'aws-cn', 'amazonaws.com.cn'],
    ['us-gov-west-1', 'aws-us-gov', 'amazonaws.com'],
    ['us-iso-east-1', 'aws-iso', 'c2s.ic.gov'],
    ['us-isob-east-1', 'aws-iso-b', 'sc2s.sgov.gov'],
    ['eusc-de-east-1', 'aws-eusc', 'amazonaws.eu'],
  ])('%s is in %s, under %s', (region, id, suffix) => {
    expect(partitionOf(region)).toEqual({ id, dnsSuffix: suffix });
    expect(dnsSuffix(region)).toBe(suffix);
  });

  it('a region the table does not list yet falls in its pattern, else in aws', () => {
    expect(partitionOf('cn-south-9')).toEqual({ id: 'aws-cn', dnsSuffix: 'amazonaws.com.cn' });
    expect(partitionOf('xx-nowhere-1')).toEqual({ id: 'aws', dnsSuffix: 'amazonaws.com' });
  });
});
