import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, managementEndpointFor } from '../../src/aws/config.js';
import { DEFAULT_ANONYMOUS_CAPABILITIES, DEFAULT_NAMESPACE_OPTIONS, RelayError } from '../../src/core/index.js';
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

  it('passes a DynamoDB endpoint only from DYNAMODB_ENDPOINT: the SDK reads AWS_ENDPOINT_URL* itself', () => {
    expect(loadConfig({ CONNECTIONS_TABLE: 't' }).dynamodbEndpoint).toBeUndefined();
    expect(loadConfig({ CONNECTIONS_TABLE: 't', DYNAMODB_ENDPOINT: 'http://local:1' }).dynamodbEndpoint).toBe(
      'http://local:1',
    );
    expect(
      loadConfig({
        CONNECTIONS_TABLE: 't',
        AWS_ENDPOINT_URL: 'http://all:1',
        AWS_ENDPOINT_URL_DYNAMODB: 'http://ddb:2',
      }).dynamodbEndpoint,
    ).toBeUndefined();
  });

  it('uses the lean sender unless told otherwise, and names a bad choice', () => {
    expect(loadConfig({ CONNECTIONS_TABLE: 't' }).managementSender).toBe('signed-http');
    expect(loadConfig({ CONNECTIONS_TABLE: 't', MANAGEMENT_SENDER: 'sdk' }).managementSender).toBe('sdk');
    expect(() => loadConfig({ CONNECTIONS_TABLE: 't', MANAGEMENT_SENDER: 'aws-sdk' })).toThrow(
      'MANAGEMENT_SENDER must be one of signed-http, sdk, got "aws-sdk"',
    );
  });

  it('allows 100 subscriptions per connection unless MAX_SUBSCRIPTIONS says otherwise', () => {
    expect(loadConfig({ CONNECTIONS_TABLE: 't' }).maxSubscriptions).toBe(100);
    expect(loadConfig({ CONNECTIONS_TABLE: 't', MAX_SUBSCRIPTIONS: '7' }).maxSubscriptions).toBe(7);
    for (const value of ['0', '-1', 'lots', '1.5']) {
      expect(() => loadConfig({ CONNECTIONS_TABLE: 't', MAX_SUBSCRIPTIONS: value })).toThrow(
        `environment variable MAX_SUBSCRIPTIONS must be a positive integer, got "${value}"`,
      );
    }
  });

  it('reads namespace options from NAMESPACES (none declared when unset)', () => {
    expect(loadConfig({ CONNECTIONS_TABLE: 't' }).namespaces).toEqual({});
    expect(loadConfig({ CONNECTIONS_TABLE: 't', NAMESPACES: '' }).namespaces).toEqual({});
    const { namespaces } = loadConfig({
      CONNECTIONS_TABLE: 't',
      NAMESPACES: '{"chat":{"presence":true,"historySize":100,"historyTtlSeconds":86400}}',
    });
    expect(namespaces.chat).toEqual({
      ...DEFAULT_NAMESPACE_OPTIONS,
      presence: true,
      historySize: 100,
      historyTtlSeconds: 86400,
    });
  });

  it.each([
    ['{chat', 'environment variable NAMESPACES is not valid JSON'],
    ['{"chat":{"presense":true}}', 'environment variable NAMESPACES namespace "chat": unknown option "presense"'],
  ])('names NAMESPACES=%s and what is wrong with it', (value, message) => {
    expect(() => loadConfig({ CONNECTIONS_TABLE: 't', NAMESPACES: value })).toThrow(ConfigError);
    expect(() => loadConfig({ CONNECTIONS_TABLE: 't', NAMESPACES: value })).toThrow(message);
  });

  it('gives anonymous connections the default channel unless ANONYMOUS_CAPABILITIES says otherwise', () => {
    expect(loadConfig({ CONNECTIONS_TABLE: 't' }).anonymousCapabilities).toEqual(DEFAULT_ANONYMOUS_CAPABILITIES);
    expect(
      loadConfig({ CONNECTIONS_TABLE: 't', ANONYMOUS_CAPABILITIES: '{"public:*":["subscribe"]}' })
        .anonymousCapabilities,
    ).toEqual({ 'public:*': ['subscribe'] });
  });

  it.each([
    ['not json', 'environment variable ANONYMOUS_CAPABILITIES is not valid JSON'],
    ['["subscribe"]', 'environment variable ANONYMOUS_CAPABILITIES must be an object of channel pattern'],
    ['{"chat:*":["shout"]}', 'environment variable ANONYMOUS_CAPABILITIES "chat:*" must list operations from'],
  ])('names ANONYMOUS_CAPABILITIES=%s and what is wrong with it', (value, message) => {
    expect(() => loadConfig({ CONNECTIONS_TABLE: 't', ANONYMOUS_CAPABILITIES: value })).toThrow(ConfigError);
    expect(() => loadConfig({ CONNECTIONS_TABLE: 't', ANONYMOUS_CAPABILITIES: value })).toThrow(message);
  });

  it('names its errors', () => {
    const error = (() => {
      try {
        loadConfig({});
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(RelayError);
    expect((error as Error).name).toBe('ConfigError');
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
