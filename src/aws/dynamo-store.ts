import {
  BatchWriteItemCommand,
  PutItemCommand,
  QueryCommand,
  type AttributeValue,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { Clock, ConnectionRecord, ConnectionStore } from '../core/index.js';

/**
 * The single-table layout the store relies on. infra/connections-table.yml declares it for
 * CloudFormation; test/integration/table-schema.test.ts keeps the two in step.
 *
 *   pk = CONN#<id>   sk = META       the connection itself (connectedAt, sourceIp)
 *   pk = ROOM#<room> sk = CONN#<id>  a membership: broadcasting to a room is a Query on pk
 *   GSI byConnection (connectionId, pk): every item of one connection, for $disconnect
 *   expiresAt (epoch seconds) is the TTL attribute on every item
 */
export const TABLE_LAYOUT = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
  byConnectionIndex: 'byConnection',
  byConnectionKey: 'connectionId',
} as const;

const BATCH_WRITE_LIMIT = 25;
const MAX_UNPROCESSED_RETRIES = 8;

export interface DynamoStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  clock: Clock;
}

/** ConnectionStore on one DynamoDB table; pagination is hidden behind AsyncIterable. */
export function createDynamoStore({ client, tableName, clock }: DynamoStoreOptions): ConnectionStore {
  const connectionKey = (id: string) => `CONN#${id}`;
  const roomKey = (room: string) => `ROOM#${room}`;

  const writeAll = async (requests: WriteRequest[]): Promise<void> => {
    for (let start = 0; start < requests.length; start += BATCH_WRITE_LIMIT) {
      let pending = requests.slice(start, start + BATCH_WRITE_LIMIT);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > MAX_UNPROCESSED_RETRIES) {
          throw new Error(`DynamoDB left ${pending.length} writes unprocessed on ${tableName}`);
        }
        if (attempt > 0) await sleep(2 ** attempt * 10);
        const output = await client.send(
          new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }),
        );
        pending = output.UnprocessedItems?.[tableName] ?? [];
      }
    }
  };

  return {
    async add(connection: ConnectionRecord, room: string) {
      const common = {
        connectionId: { S: connection.connectionId },
        expiresAt: { N: String(connection.expiresAt) },
      };
      await Promise.all([
        client.send(new PutItemCommand({
          TableName: tableName,
          Item: {
            pk: { S: connectionKey(connection.connectionId) },
            sk: { S: 'META' },
            connectedAt: { N: String(connection.connectedAt) },
            sourceIp: { S: connection.sourceIp },
            ...common,
          },
        })),
        client.send(new PutItemCommand({
          TableName: tableName,
          Item: { pk: { S: roomKey(room) }, sk: { S: connectionKey(connection.connectionId) }, ...common },
        })),
      ]);
    },

    async remove(connectionId: string) {
      const keys: Record<string, AttributeValue>[] = [];
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const page = await client.send(new QueryCommand({
          TableName: tableName,
          IndexName: TABLE_LAYOUT.byConnectionIndex,
          KeyConditionExpression: 'connectionId = :id',
          ExpressionAttributeValues: { ':id': { S: connectionId } },
          ExclusiveStartKey: startKey,
        }));
        for (const item of page.Items ?? []) keys.push({ pk: item.pk!, sk: item.sk! });
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      await writeAll(keys.map((Key) => ({ DeleteRequest: { Key } })));
    },

    async *members(room: string) {
      // TTL deletion lags by up to days, so expired items are filtered out on read.
      const nowSeconds = String(Math.floor(clock.now() / 1000));
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const page = await client.send(new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :room',
          FilterExpression: 'expiresAt > :now',
          ProjectionExpression: 'connectionId',
          ExpressionAttributeValues: { ':room': { S: roomKey(room) }, ':now': { N: nowSeconds } },
          ExclusiveStartKey: startKey,
        }));
        const ids = (page.Items ?? []).map((item) => item.connectionId?.S).filter(isString);
        if (ids.length > 0) yield ids;
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    },
  };
}

function isString(value: string | undefined): value is string {
  return typeof value === 'string';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
