import { describe, expect, it } from 'vitest';
import { RelayError } from '../../src/core/errors.js';
import { resolveIntrinsics } from '../../src/local/cloudformation-intrinsics.js';
import { ServiceConfigError } from '../../src/local/service-config-error.js';

describe('CloudFormation references, resolved locally', () => {
  const stack = {
    region: 'us-east-1',
    stackName: 's-dev',
    accountId: '000000000000',
    resources: { Table: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'my-table' } } },
    emulated: { WebsocketsApi: 'local' },
  };

  it('turns Ref, GetAtt, Join and Sub into table names, ARNs and joined strings', () => {
    // The long forms, as osls's YAML schema turns !Ref, !GetAtt, !Join and !Sub into them.
    const declared = {
      name: { Ref: 'Table' },
      arn: { 'Fn::GetAtt': ['Table', 'Arn'] },
      url: {
        'Fn::Join': [
          '',
          ['https://', { Ref: 'WebsocketsApi' }, '.execute-api.', { Ref: 'AWS::Region' }, '.amazonaws.com'],
        ],
      },
      sub: { 'Fn::Sub': 'table ${Table} in ${AWS::Region} ${!Literal}' },
    };
    expect(resolveIntrinsics(declared, stack)).toEqual({
      name: 'my-table',
      arn: 'arn:aws:dynamodb:us-east-1:000000000000:table/my-table',
      url: 'https://local.execute-api.us-east-1.amazonaws.com',
      sub: 'table my-table in us-east-1 ${Literal}',
    });
  });

  it('its errors are configuration errors, under the root error class, with their own name', () => {
    const error = (() => {
      try {
        resolveIntrinsics({ Ref: 'SomeQueue' }, stack);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(RelayError);
    expect((error as Error).name).toBe('ServiceConfigError');
  });

  it('names a reference it cannot stand in for', () => {
    expect(() => resolveIntrinsics({ Ref: 'SomeQueue' }, stack, 'env.QUEUE')).toThrow(ServiceConfigError);
    expect(() => resolveIntrinsics({ Ref: 'SomeQueue' }, stack, 'env.QUEUE')).toThrow(/env.QUEUE: !Ref SomeQueue/);
    expect(() => resolveIntrinsics({ 'Fn::ImportValue': 'x' }, stack, 'env.X')).toThrow(
      /env.X: Fn::ImportValue cannot be resolved locally/,
    );
  });
});
