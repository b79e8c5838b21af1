import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { RelayConfig } from './config.js';

/**
 * The SDK's DynamoDB client, once per cold start, behind the document client (plain values in,
 * plain values out). The endpoint is passed only when DYNAMODB_ENDPOINT names one; otherwise the
 * SDK resolves it as it does for any app: AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL, the shared
 * config file, else the region's (FIPS, dual-stack, account-based) endpoint. Retries, their
 * quota and AWS_MAX_ATTEMPTS are the SDK's too.
 */
export function createDynamoClient(
  config: Pick<RelayConfig, 'region' | 'dynamodbEndpoint'>,
  credentials?: AwsCredentialIdentity,
): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: config.region,
    ...(config.dynamodbEndpoint ? { endpoint: config.dynamodbEndpoint } : {}),
    ...(credentials ? { credentials } : {}),
  });
  return DynamoDBDocumentClient.from(client);
}
