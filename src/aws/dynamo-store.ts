import type { AttributeValue, QueryOutput, WriteRequest } from '@aws-sdk/client-dynamodb';
import type { Clock, ConnectionRecord, ConnectionStore, Member } from '../core/index.js';
import type { DynamoApi } from './dynamodb-api.js';

/**
 * The single-table layout the store relies on. infra/connections-table.yml declares it for
 * CloudFormation; test/integration/table-schema.test.ts keeps the two in step.
 *
 *   pk = CONN#<id>   sk = META       the connection: connectedAt, sourceIp, rooms (its memberships)
 *   pk = ROOM#<room> sk = CONN#<id>  a membership: broadcasting to a room is a Query on pk
 *   expiresAt (epoch seconds) is the TTL attribute on every item
 *
 * $disconnect reads the connection's rooms with a strongly consistent GetItem: an index would be
 * eventually consistent, and a quick connect-disconnect could leave memberships behind.
 */
export const TABLE_LAYOUT = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
} as const;

const BATCH_WRITE_LIMIT = 25;
/**
 * Members per Query page. Smaller than DynamoDB's 1 MB page (~8,000 members), so the first
 * deliveries start after a short read, and later pages are read while earlier ones are sent.
 * Read units barely change: they are counted on the bytes read, rounded up to 4 KB per page.
 */
export const MEMBERS_PAGE_SIZE = 250;
const MAX_UNPROCESSED_RETRIES = 8;

export interface DynamoStoreOptions {
  dynamo: DynamoApi;
  tableName: string;
  clock: Clock;
}

/** ConnectionStore on one DynamoDB table; pagination is hidden behind AsyncIterable. */
export function createDynamoStore({ dynamo, tableName, clock }: DynamoStoreOptions): ConnectionStore {
  const connectionKey = (id: string) => `CONN#${id}`;
  const roomKey = (room: string) => `ROOM#${room}`;
  // Every attribute the table's schema names comes from TABLE_LAYOUT, which the table is checked against.
  const { partitionKey, sortKey, ttlAttribute } = TABLE_LAYOUT;
  const key = (pk: string, sk: string) => ({ [partitionKey]: { S: pk }, [sortKey]: { S: sk } });

  const writeAll = async (requests: WriteRequest[]): Promise<void> => {
    for (let start = 0; start < requests.length; start += BATCH_WRITE_LIMIT) {
      let pending = requests.slice(start, start + BATCH_WRITE_LIMIT);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > MAX_UNPROCESSED_RETRIES) {
          throw new Error(`DynamoDB left ${pending.length} writes unprocessed on ${tableName}`);
        }
        if (attempt > 0) await sleep(2 ** attempt * 10);
        const output = await dynamo.batchWriteItem({ RequestItems: { [tableName]: pending } });
        pending = output.UnprocessedItems?.[tableName] ?? [];
      }
    }
  };

  return {
    async add(connection: ConnectionRecord, room: string) {
      const common = {
        connectionId: { S: connection.connectionId },
        connectedAt: { N: String(connection.connectedAt) },
        [ttlAttribute]: { N: String(connection.expiresAt) },
      };
      // One request for both items: $connect's latency is the handshake's.
      await writeAll([
        {
          PutRequest: {
            Item: {
              ...key(connectionKey(connection.connectionId), 'META'),
              sourceIp: { S: connection.sourceIp },
              rooms: { SS: [room] },
              ...common,
            },
          },
        },
        { PutRequest: { Item: { ...key(roomKey(room), connectionKey(connection.connectionId)), ...common } } },
      ]);
    },

    async remove(connectionId: string, rooms: string[] = []) {
      const meta = key(connectionKey(connectionId), 'META');
      const { Item } = await dynamo.getItem({
        TableName: tableName,
        Key: meta,
        ConsistentRead: true,
        ProjectionExpression: 'rooms',
      });
      const allRooms = new Set([...(Item?.rooms?.SS ?? []), ...rooms]);
      const keys = [meta, ...[...allRooms].map((room) => key(roomKey(room), connectionKey(connectionId)))];
      await writeAll(keys.map((Key) => ({ DeleteRequest: { Key } })));
    },

    async *members(room: string) {
      // TTL deletion lags by up to days, so expired items are filtered out on read.
      const nowSeconds = String(Math.floor(clock.now() / 1000));
      const query = (startKey?: Record<string, AttributeValue>) =>
        dynamo.query({
          TableName: tableName,
          KeyConditionExpression: `${partitionKey} = :room`,
          FilterExpression: `${ttlAttribute} > :now`,
          ProjectionExpression: 'connectionId, connectedAt',
          ExpressionAttributeValues: { ':room': { S: roomKey(room) }, ':now': { N: nowSeconds } },
          ExclusiveStartKey: startKey,
          Limit: MEMBERS_PAGE_SIZE,
        });
      // A read ahead fails while nobody awaits it yet (the consumer is busy delivering): mark it
      // handled at once, or Node (and Lambda) would end the process on an unhandled rejection.
      // Awaiting it later still throws to the consumer.
      const readPage = (startKey?: Record<string, AttributeValue>) => {
        const page = query(startKey);
        page.catch(() => {});
        return page;
      };
      let next: Promise<QueryOutput> | undefined = readPage();
      while (next) {
        const page: QueryOutput = await next;
        // Read ahead: the next page arrives while this one is being delivered.
        next = page.LastEvaluatedKey ? readPage(page.LastEvaluatedKey) : undefined;
        const members: Member[] = [];
        for (const item of page.Items ?? []) {
          const connectionId = item.connectionId?.S;
          if (connectionId) members.push({ connectionId, connectedAt: Number(item.connectedAt?.N ?? 0) });
        }
        if (members.length > 0) yield members;
      }
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
