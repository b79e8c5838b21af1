import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveIntrinsics } from '../../src/local/cloudformation-intrinsics.js';
import { parseCloudFormationYaml } from '../../src/local/cloudformation-yaml.js';
import { resolveVariables, VariableError } from '../../src/local/serverless-variables.js';

const sources = (options: Record<string, string> = {}, env: Record<string, string> = {}) => ({
  serviceDir: tmpdir(),
  options,
  env,
});

describe('serverless.yml variables', () => {
  it('resolves self, sls:stage, opt and env with fallbacks, innermost first', () => {
    const config = {
      service: 'svc',
      provider: { stage: '${opt:stage, "dev"}' },
      custom: { names: { dev: 'dev-name', prod: 'prod-name' } },
      table: '${self:service}-${sls:stage}',
      chosen: '${self:custom.names.${sls:stage}}',
      region: '${env:REGION, ${opt:region, "eu-west-1"}}',
      count: '${opt:count, 3}',
    };

    expect(resolveVariables(config, sources({ stage: 'prod' }))).toMatchObject({
      table: 'svc-prod',
      chosen: 'prod-name',
      region: 'eu-west-1',
      count: 3,
    });
    expect(resolveVariables(config, sources({}, { REGION: 'ap-south-1' }))).toMatchObject({
      table: 'svc-dev',
      region: 'ap-south-1',
    });
  });

  it('includes files with ${file(...)} and resolves variables inside them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'svc-'));
    writeFileSync(join(dir, 'part.yml'), 'Name: ${self:service}-table\nArn: !GetAtt Table.Arn\n');

    const config = resolveVariables(
      { service: 's', part: '${file(part.yml)}', name: '${file(./part.yml):Name}' },
      { ...sources(), serviceDir: dir },
    );

    expect(config.part).toEqual({ Name: 's-table', Arn: { 'Fn::GetAtt': ['Table', 'Arn'] } });
    expect(config.name).toBe('s-table');
  });

  it.each([
    [{ a: '${env:MISSING}' }, /a: variable \$\{env:MISSING\} has no value/],
    [{ a: '${ssm:/param}' }, /"ssm".*cannot be resolved locally/],
    [{ a: '${self:a}' }, /refers to itself/],
    [{ a: '${file(missing.yml)}' }, /cannot be read/],
  ])('names the variable it cannot resolve: %j', (config, message) => {
    expect(() => resolveVariables(config, sources())).toThrow(VariableError);
    expect(() => resolveVariables(config, sources())).toThrow(message);
  });
});

describe('CloudFormation references, resolved locally', () => {
  const stack = {
    region: 'us-east-1',
    stackName: 's-dev',
    accountId: '000000000000',
    resources: { Table: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'my-table' } } },
    emulated: { WebsocketsApi: 'local' },
  };

  it('turns short-form tags into table names, ARNs and joined strings', () => {
    const parsed = parseCloudFormationYaml(`
name: !Ref Table
arn: !GetAtt Table.Arn
url: !Join ['', ['https://', !Ref WebsocketsApi, '.execute-api.', !Ref AWS::Region, '.amazonaws.com']]
sub: !Sub 'table \${Table} in \${AWS::Region} \${!Literal}'
`);
    expect(resolveIntrinsics(parsed, stack)).toEqual({
      name: 'my-table',
      arn: 'arn:aws:dynamodb:us-east-1:000000000000:table/my-table',
      url: 'https://local.execute-api.us-east-1.amazonaws.com',
      sub: 'table my-table in us-east-1 ${Literal}',
    });
  });

  it('names a reference it cannot stand in for', () => {
    expect(() => resolveIntrinsics({ Ref: 'SomeQueue' }, stack, 'env.QUEUE')).toThrow(/env.QUEUE: !Ref SomeQueue/);
  });
});

describe('strings that are not Serverless variables', () => {
  it('leaves CloudFormation Sub placeholders and selection expressions alone', () => {
    const config = {
      sub: 'arn:${AWS::Region}:${AWS::AccountId}:${WebsocketsApi}/${Table.Arn}',
      expr: '${request.body.action}',
      stage: '${sls:stage}',
    };
    expect(resolveVariables(config, sources({ stage: 'x' }))).toEqual({ ...config, stage: 'x' });
  });
});

describe('variable precedence and resolved values', () => {
  it('${sls:stage} follows --stage before provider.stage, as the framework does', () => {
    expect(resolveVariables({ provider: { stage: 'prod' }, s: '${sls:stage}' }, sources({ stage: 'local' })).s).toBe(
      'local',
    );
    expect(resolveVariables({ provider: { stage: 'prod' }, s: '${sls:stage}' }, sources()).s).toBe('prod');
  });

  it('a resolved value that looks like a variable is kept as it is', () => {
    expect(resolveVariables({ a: 'x-${env:V}' }, sources({}, { V: '${ss:w}' })).a).toBe('x-${ss:w}');
    expect(resolveVariables({ a: '${env:V}' }, sources({}, { V: '${self:a}' })).a).toBe('${self:a}');
  });

  it('${param:...} reads the params of the stage, then the defaults', () => {
    const config = { params: { prod: { days: 30 }, default: { days: 7 } }, a: '${param:days}' };
    expect(resolveVariables(config, sources({ stage: 'prod' })).a).toBe(30);
    expect(resolveVariables(config, sources({ stage: 'dev' })).a).toBe(7);
  });
});
