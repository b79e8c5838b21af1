import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, managementEndpointFor } from '../../src/aws/config.js';
import { websocketEvent } from '../fixtures/websocket-event.js';

describe('loadConfig', () => {
  it('fails fast naming a missing setting', () => {
    expect(() => loadConfig({})).toThrow(ConfigError);
    expect(() => loadConfig({})).toThrow('CONNECTIONS_TABLE');
  });

  it.each(['0', '-3', 'many', '2.5'])('rejects FANOUT_CONCURRENCY=%s', (value) => {
    expect(() => loadConfig({ CONNECTIONS_TABLE: 't', FANOUT_CONCURRENCY: value })).toThrow(
      /FANOUT_CONCURRENCY must be a positive integer/,
    );
  });

  it('leaves FIPS, dual-stack and isolated-partition endpoints to the SDK client, which alone resolves them', () => {
    expect(loadConfig({ CONNECTIONS_TABLE: 't', AWS_USE_FIPS_ENDPOINT: 'true' }).dynamodbClient).toBe('sdk');
    expect(loadConfig({ CONNECTIONS_TABLE: 't', AWS_USE_DUALSTACK_ENDPOINT: 'true' }).dynamodbClient).toBe('sdk');
    expect(loadConfig({ CONNECTIONS_TABLE: 't', AWS_REGION: 'us-isob-east-1' }).dynamodbClient).toBe('sdk');
    expect(loadConfig({ CONNECTIONS_TABLE: 't', AWS_REGION: 'us-gov-west-1' }).dynamodbClient).toBe('signed-http');
    expect(
      loadConfig({ CONNECTIONS_TABLE: 't', AWS_USE_FIPS_ENDPOINT: 'true', DYNAMODB_ENDPOINT: 'http://local:1' })
        .dynamodbClient,
    ).toBe('signed-http');
    expect(() =>
      loadConfig({ CONNECTIONS_TABLE: 't', AWS_USE_FIPS_ENDPOINT: 'true', DYNAMODB_CLIENT: 'signed-http' }),
    ).toThrow(/DYNAMODB_CLIENT=signed-http cannot resolve FIPS/);
  });

  it('takes the DynamoDB endpoint from the service-specific variable first, then the global one', () => {
    expect(loadConfig({ CONNECTIONS_TABLE: 't' }).dynamodbEndpoint).toBeUndefined();
    expect(loadConfig({ CONNECTIONS_TABLE: 't', AWS_ENDPOINT_URL: 'http://all:1' }).dynamodbEndpoint).toBe(
      'http://all:1',
    );
    expect(
      loadConfig({
        CONNECTIONS_TABLE: 't',
        AWS_ENDPOINT_URL: 'http://all:1',
        AWS_ENDPOINT_URL_DYNAMODB: 'http://ddb:2',
      }).dynamodbEndpoint,
    ).toBe('http://ddb:2');
  });

  it('uses the lean clients unless told otherwise, and names a bad choice', () => {
    expect(loadConfig({ CONNECTIONS_TABLE: 't' })).toMatchObject({
      managementSender: 'signed-http',
      dynamodbClient: 'signed-http',
    });
    expect(loadConfig({ CONNECTIONS_TABLE: 't', MANAGEMENT_SENDER: 'sdk', DYNAMODB_CLIENT: 'sdk' })).toMatchObject({
      managementSender: 'sdk',
      dynamodbClient: 'sdk',
    });
    expect(() => loadConfig({ CONNECTIONS_TABLE: 't', DYNAMODB_CLIENT: 'aws-sdk' })).toThrow(
      'DYNAMODB_CLIENT must be one of signed-http, sdk, got "aws-sdk"',
    );
  });
});

describe('managementEndpointFor', () => {
  const context = websocketEvent().requestContext;

  it("on AWS uses the API's own execute-api host, which also works behind a custom domain", () => {
    const config = loadConfig({ CONNECTIONS_TABLE: 't', AWS_REGION: 'eu-west-1' });
    const behindCustomDomain = { ...context, domainName: 'chat.example.com' };
    expect(managementEndpointFor(config, behindCustomDomain)).toBe(
      'https://abc123def4.execute-api.eu-west-1.amazonaws.com/prod',
    );
  });

  it.each([
    ['cn-north-1', 'amazonaws.com.cn'],
    ['us-gov-west-1', 'amazonaws.com'],
    ['us-isob-east-1', 'sc2s.sgov.gov'],
    ['eusc-de-east-1', 'amazonaws.eu'],
  ])("in %s uses its partition's domain (%s)", (region, suffix) => {
    const config = loadConfig({ CONNECTIONS_TABLE: 't', AWS_REGION: region });
    expect(managementEndpointFor(config, context)).toBe(`https://abc123def4.execute-api.${region}.${suffix}/prod`);
  });

  it("an explicit endpoint (the emulator's) wins", () => {
    const config = loadConfig({
      CONNECTIONS_TABLE: 't',
      AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI: 'http://127.0.0.1:3001',
    });
    expect(managementEndpointFor(config, context)).toBe('http://127.0.0.1:3001');
  });
});
