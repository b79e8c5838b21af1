import type {
  BatchWriteItemInput,
  BatchWriteItemOutput,
  GetItemInput,
  GetItemOutput,
  QueryInput,
  QueryOutput,
} from '@aws-sdk/client-dynamodb';

/**
 * The DynamoDB operations the connection store makes, in the SDK's own input and output shapes
 * (types only). Two adapters: signed HTTP (dynamodb-http-api.ts, the default) and the SDK
 * client (dynamodb-sdk-api.ts, DYNAMODB_CLIENT=sdk). Errors carry AWS's error name as `name`.
 * Binary attributes (B, BS) are outside it: the signed HTTP adapter would send and return them
 * as base64 strings, not Uint8Array. The store writes none.
 */
export interface DynamoApi {
  batchWriteItem(input: BatchWriteItemInput): Promise<BatchWriteItemOutput>;
  getItem(input: GetItemInput): Promise<GetItemOutput>;
  query(input: QueryInput): Promise<QueryOutput>;
}
