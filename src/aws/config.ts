import {
  type Capabilities,
  DEFAULT_ANONYMOUS_CAPABILITIES,
  DEFAULT_FANOUT_CONCURRENCY,
  DEFAULT_MAX_SUBSCRIPTIONS,
  type Namespaces,
  parseNamespaces,
} from '../core/index.js';
import { capabilities, type Env, json, oneOf, positiveInteger, required } from './env-settings.js';
import { dnsSuffix } from './partitions.js';
import type { WebSocketRequestContext } from './websocket-event.js';

export { ConfigError } from './env-settings.js';

/** Everything the Lambda functions read from their environment, validated once. */
export interface RelayConfig {
  connectionsTable: string;
  region: string;
  fanoutConcurrency: number;
  /** Explicit Management API endpoint; when absent it is derived from the event. */
  managementApiUrl?: string;
  /**
   * Another DynamoDB (dynalite, DynamoDB Local) from DYNAMODB_ENDPOINT. AWS_ENDPOINT_URL_DYNAMODB
   * and AWS_ENDPOINT_URL are not read here: the SDK reads them from process.env itself.
   */
  dynamodbEndpoint?: string;
  /** How PostToConnection is sent: `signed-http` (lean, default) or `sdk` (the SDK client). */
  managementSender: 'signed-http' | 'sdk';
  /** The WebSocket URL the chat page connects to (HTTP function only). */
  websocketUrl?: string;
  /** Bearer token the server API requires (HTTP function only); open when unset. */
  publishToken?: string;
  /** Channel subscriptions per connection, the automatic ones included (MAX_SUBSCRIPTIONS). */
  maxSubscriptions: number;
  /** Namespace options (NAMESPACES, JSON); serverless.yml declares them under custom.namespaces. */
  namespaces: Namespaces;
  /** What connections without an authorizer context may do (ANONYMOUS_CAPABILITIES, JSON). */
  anonymousCapabilities: Capabilities;
}

/** Reads and validates the environment; throws ConfigError naming the first bad setting. */
export function loadConfig(env: Env): RelayConfig {
  return {
    connectionsTable: required(env, 'CONNECTIONS_TABLE'),
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    fanoutConcurrency: positiveInteger(env, 'FANOUT_CONCURRENCY', DEFAULT_FANOUT_CONCURRENCY),
    // The SDK would honour this variable by itself, but only when no endpoint is passed; the
    // lean sender always takes one, so read it here to keep the override working.
    managementApiUrl: env.AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI || env.MANAGEMENT_API_URL || undefined,
    dynamodbEndpoint: env.DYNAMODB_ENDPOINT || undefined,
    managementSender: oneOf(env, 'MANAGEMENT_SENDER', ['signed-http', 'sdk'] as const, 'signed-http'),
    websocketUrl: env.WEBSOCKET_URL || undefined,
    publishToken: env.PUBLISH_TOKEN || undefined,
    maxSubscriptions: positiveInteger(env, 'MAX_SUBSCRIPTIONS', DEFAULT_MAX_SUBSCRIPTIONS),
    namespaces: json(env, 'NAMESPACES', parseNamespaces, {}),
    anonymousCapabilities: capabilities(env, 'ANONYMOUS_CAPABILITIES', DEFAULT_ANONYMOUS_CAPABILITIES),
  };
}

/**
 * Where to POST @connections calls for the connection behind `context`. The execute-api
 * host is used, not `domainName`: behind a custom domain, domainName has no stage mapping
 * for @connections, but the API's own host always has.
 */
export function managementEndpointFor(config: RelayConfig, context: WebSocketRequestContext): string {
  if (config.managementApiUrl) return config.managementApiUrl;
  return `https://${context.apiId}.execute-api.${config.region}.${dnsSuffix(config.region)}/${context.stage}`;
}
