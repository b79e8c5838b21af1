import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { type Clock, type ConnectionRecord, type ConnectionStore, type Member, RelayError } from '../core/index.js';
import { withRetries } from './retry.js';

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
/**
 * Unprocessed batch items are DynamoDB throttling part of a batch: back off and send the rest
 * again, briefly (a $connect waits on it). The SDK's own retries cover whole failed calls.
 */
const UNPROCESSED_RETRIES = { maxAttempts: 9, baseMs: 20 };

type WriteRequest = NonNullable<BatchWriteCommandInput['RequestItems']>[string][number];
type Key = Record<string, string>;

/** DynamoDB still left writes of a batch unprocessed after every retry. */
export class UnprocessedWritesError extends RelayError {
  override name = 'UnprocessedWritesError';
  constructor(
    readonly tableName: string,
    readonly unprocessed: number,
  ) {
    super(`DynamoDB left ${unprocessed} writes unprocessed on ${tableName}`);
  }
}

export interface DynamoStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock: Clock;
}

/** ConnectionStore on one DynamoDB table; pagination is hidden behind AsyncIterable. */
export function createDynamoStore({ client, tableName, clock }: DynamoStoreOptions): ConnectionStore {
  const connectionKey = (id: string) => `CONN#${id}`;
  const roomKey = (room: string) => `ROOM#${room}`;
  // Every attribute the table's schema names comes from TABLE_LAYOUT, which the table is checked against.
  const { partitionKey, sortKey, ttlAttribute } = TABLE_LAYOUT;
  const key = (pk: string, sk: string): Key => ({ [partitionKey]: pk, [sortKey]: sk });

  const writeBatch = (batch: WriteRequest[]): Promise<void> => {
    let pending = batch;
    return withRetries(
      async () => {
        const { UnprocessedItems } = await client.send(
          new BatchWriteCommand({ RequestItems: { [tableName]: pending } }),
        );
        const left = UnprocessedItems?.[tableName] ?? [];
        if (left.length > 0) {
          pending = left;
          throw new UnprocessedWritesError(tableName, left.length);
        }
      },
      {
        maxAttempts: UNPROCESSED_RETRIES.maxAttempts,
        backoffBaseMs: (error) => (error instanceof UnprocessedWritesError ? UNPROCESSED_RETRIES.baseMs : undefined),
      },
    );
  };
  const writeAll = async (requests: WriteRequest[]): Promise<void> => {
    for (let start = 0; start < requests.length; start += BATCH_WRITE_LIMIT) {
      await writeBatch(requests.slice(start, start + BATCH_WRITE_LIMIT));
    }
  };

  return {
    async add(connection: ConnectionRecord, room: string) {
      const common = {
        connectionId: connection.connectionId,
        connectedAt: connection.connectedAt,
        [ttlAttribute]: connection.expiresAt,
      };
      // One request for both items: $connect's latency is the handshake's.
      await writeAll([
        {
          PutRequest: {
            Item: {
              ...key(connectionKey(connection.connectionId), 'META'),
              sourceIp: connection.sourceIp,
              rooms: new Set([room]),
              ...common,
            },
          },
        },
        { PutRequest: { Item: { ...key(roomKey(room), connectionKey(connection.connectionId)), ...common } } },
      ]);
    },

    async remove(connectionId: string, rooms: string[] = []) {
      const meta = key(connectionKey(connectionId), 'META');
      const { Item } = await client.send(
        new GetCommand({ TableName: tableName, Key: meta, ConsistentRead: true, ProjectionExpression: 'rooms' }),
      );
      const recorded = Item?.rooms instanceof Set ? [...(Item.rooms as Set<string>)] : [];
      const allRooms = new Set([...recorded, ...rooms]);
      const keys = [meta, ...[...allRooms].map((room) => key(roomKey(room), connectionKey(connectionId)))];
      await writeAll(keys.map((Key) => ({ DeleteRequest: { Key } })));
    },

    async *members(room: string) {
      // TTL deletion lags by up to days, so expired items are filtered out on read.
      const nowSeconds = Math.floor(clock.now() / 1000);
      // A read ahead fails while nobody awaits it yet (the consumer is busy delivering): mark it
      // handled at once, or Node (and Lambda) would end the process on an unhandled rejection.
      // Awaiting it later still throws to the consumer.
      const readPage = (startKey?: Record<string, unknown>) => {
        const page = client.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: `${partitionKey} = :room`,
            FilterExpression: `${ttlAttribute} > :now`,
            ProjectionExpression: 'connectionId, connectedAt',
            ExpressionAttributeValues: { ':room': roomKey(room), ':now': nowSeconds },
            ExclusiveStartKey: startKey,
            Limit: MEMBERS_PAGE_SIZE,
          }),
        );
        page.catch(() => {});
        return page;
      };
      let next: Promise<QueryCommandOutput> | undefined = readPage();
      while (next) {
        const page: QueryCommandOutput = await next;
        // Read ahead: the next page arrives while this one is being delivered.
        next = page.LastEvaluatedKey ? readPage(page.LastEvaluatedKey) : undefined;
        const members: Member[] = [];
        for (const item of page.Items ?? []) {
          if (typeof item.connectionId === 'string') {
            members.push({ connectionId: item.connectionId, connectedAt: Number(item.connectedAt ?? 0) });
          }
        }
        if (members.length > 0) yield members;
      }
    },
  };
}
