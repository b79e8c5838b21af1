import { BatchWriteItemCommand, type DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoApi } from './dynamodb-api.js';

/** The store's DynamoDB operations through the SDK client (DYNAMODB_CLIENT=sdk). */
export function sdkDynamoApi(client: DynamoDBClient): DynamoApi {
  return {
    batchWriteItem: (input) => client.send(new BatchWriteItemCommand(input)),
    getItem: (input) => client.send(new GetItemCommand(input)),
    query: (input) => client.send(new QueryCommand(input)),
  };
}
