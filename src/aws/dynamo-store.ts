import { randomUUID } from 'node:crypto';
import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type Clock,
  type ConnectionRecord,
  type ConnectionStore,
  type Member,
  RelayError,
  type StreamPosition,
  type SubscribeResult,
  type Subscriber,
} from '../core/index.js';
import { withRetries } from './retry.js';

/**
 * The single-table layout the store relies on. infra/connections-table.yml declares it for
 * CloudFormation; test/integration/table-schema.test.ts keeps the two in step.
 *
 *   pk = CONN#<id>        sk = META       the connection: connectedAt, sourceIp, userId, info,
 *                                         channels (a string set: its memberships)
 *   pk = CHAN#<channel>   sk = CONN#<id>  a membership: connectionId, connectedAt, userId, info;
 *                                         a fan-out is a Query on pk, presence (issue 12) too
 *   pk = STREAM#<channel> sk = META       the channel's stream: offset (its last publication's),
 *                                         epoch (random, made with the item); its own partition
 *                                         so a fan-out's Query never reads it
 *   expiresAt (epoch seconds) is the TTL attribute on every item; userId and info (JSON text)
 *   are absent for anonymous connections
 *
 * $disconnect reads the connection's channels with a strongly consistent GetItem: an index would
 * be eventually consistent, and a quick connect-disconnect could leave memberships behind.
 * dynalite has no transactions, so subscribe and unsubscribe are two writes each, ordered so a
 * half-done one is repaired by repeating it (and lapses with the connection's TTL otherwise).
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

/** The record's attribute listing its channels; the subscription limit counts it. */
const CHANNELS = 'channels';

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
  const channelKey = (channel: string) => `CHAN#${channel}`;
  const streamKey = (channel: string) => `STREAM#${channel}`;
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

  const isConditionFailure = (error: unknown) =>
    error instanceof Error && error.name === 'ConditionalCheckFailedException';
  /** The items' common attributes; userId and info only when there are some (anonymous: none). */
  const subscriberAttributes = (subscriber: Subscriber) => ({
    connectionId: subscriber.connectionId,
    connectedAt: subscriber.connectedAt,
    ...(subscriber.userId !== null && { userId: subscriber.userId }),
    // As JSON text: a map would not round-trip every JSON value (unsafe integers, empty keys).
    ...(subscriber.info !== null && { info: JSON.stringify(subscriber.info) }),
    [ttlAttribute]: subscriber.expiresAt,
  });
  const membershipItem = (subscriber: Subscriber, channel: string) => ({
    ...key(channelKey(channel), connectionKey(subscriber.connectionId)),
    ...subscriberAttributes(subscriber),
  });

  /**
   * Adds `by` (0 or 1) to the channel's counter in one UpdateItem: DynamoDB applies one item's
   * updates one at a time, so concurrent publishers never share an offset. An absent item is
   * created with a new epoch. An expired one (TTL deletes late) must count as absent, so the
   * increment is conditional on a live item; when that fails, a second update restarts the
   * stream, conditional on its still being expired, so of racing restarts only one makes an epoch
   * and the others retry the increment on it.
   */
  const advance = async (channel: string, by: number, ttlSeconds: number): Promise<StreamPosition> => {
    const streamItem = key(streamKey(channel), 'META');
    const nowSeconds = Math.floor(clock.now() / 1000);
    const expiresAt = nowSeconds + ttlSeconds;
    // One conditional update of the stream item; undefined when its condition does not hold.
    const update = async (expression: string, condition: string): Promise<StreamPosition | undefined> => {
      try {
        const { Attributes } = await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: streamItem,
            UpdateExpression: `${expression}, ${ttlAttribute} = :expiresAt`,
            ConditionExpression: condition,
            ExpressionAttributeNames: { '#offset': 'offset', '#epoch': 'epoch' },
            ExpressionAttributeValues: {
              ':by': by,
              ':epoch': randomUUID(),
              ':expiresAt': expiresAt,
              ':now': nowSeconds,
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return { offset: Number(Attributes?.offset ?? 0), epoch: String(Attributes?.epoch ?? '') };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        return undefined;
      }
    };
    for (;;) {
      const counted = await update(
        'ADD #offset :by SET #epoch = if_not_exists(#epoch, :epoch)',
        `attribute_not_exists(${partitionKey}) OR ${ttlAttribute} > :now`,
      );
      if (counted) return counted;
      // Expired: restart it. Undefined when another writer restarted it first: count on its epoch.
      const restarted = await update('SET #offset = :by, #epoch = :epoch', `${ttlAttribute} <= :now`);
      if (restarted) return restarted;
    }
  };

  return {
    nextPosition(channel: string, ttlSeconds: number) {
      return advance(channel, 1, ttlSeconds);
    },

    position(channel: string, ttlSeconds: number) {
      return advance(channel, 0, ttlSeconds);
    },

    async add(connection: ConnectionRecord, channels: readonly string[]) {
      const { sourceIp, ...subscriber } = connection;
      // One request for the record and its memberships: $connect's latency is the handshake's.
      await writeAll([
        {
          PutRequest: {
            Item: {
              ...key(connectionKey(connection.connectionId), 'META'),
              ...subscriberAttributes(subscriber),
              sourceIp,
              ...(channels.length > 0 && { [CHANNELS]: new Set(channels) }),
            },
          },
        },
        ...channels.map((channel) => ({ PutRequest: { Item: membershipItem(subscriber, channel) } })),
      ]);
    },

    async subscribe(subscriber: Subscriber, channel: string, maxSubscriptions: number): Promise<SubscribeResult> {
      const meta = key(connectionKey(subscriber.connectionId), 'META');
      let result: SubscribeResult;
      try {
        // The record first, conditionally: the limit holds however many subscribes race (DynamoDB
        // evaluates one item's writes one at a time), and a gone connection is not brought back
        // (an UpdateItem without the attribute_exists would create the record). A $disconnect that
        // lands between this and the PutItem below leaves one orphan membership: fan-out prunes it on
        // Gone, TTL deletes it within hours; without transactions (dynalite has none) that is the price.
        const { Attributes } = await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: meta,
            UpdateExpression: `ADD ${CHANNELS} :channels`,
            ConditionExpression: `attribute_exists(${partitionKey}) AND (contains(${CHANNELS}, :channel) OR attribute_not_exists(${CHANNELS}) OR size(${CHANNELS}) < :max)`,
            ExpressionAttributeValues: {
              ':channels': new Set([channel]),
              ':channel': channel,
              ':max': maxSubscriptions,
            },
            ReturnValues: 'UPDATED_OLD',
          }),
        );
        const before = Attributes?.[CHANNELS];
        result = before instanceof Set && before.has(channel) ? 'existing' : 'added';
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        // Which part failed: rare, so one more read rather than a more complex write.
        const { Item } = await client.send(
          new GetCommand({ TableName: tableName, Key: meta, ConsistentRead: true, ProjectionExpression: partitionKey }),
        );
        return Item ? 'limit' : 'gone';
      }
      // Written again when existing: repairs a subscribe that failed between its two writes.
      await client.send(new PutCommand({ TableName: tableName, Item: membershipItem(subscriber, channel) }));
      return result;
    },

    async unsubscribe(connectionId: string, channel: string) {
      // The membership first: if the second write fails, the record lists one channel too many
      // (it counts towards the limit until a repeated unsubscribe; $disconnect deleting an absent
      // membership is fine), but no fan-out reaches the connection there any more.
      await client.send(
        new DeleteCommand({ TableName: tableName, Key: key(channelKey(channel), connectionKey(connectionId)) }),
      );
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key(connectionKey(connectionId), 'META'),
            UpdateExpression: `DELETE ${CHANNELS} :channels`,
            ConditionExpression: `attribute_exists(${partitionKey})`,
            ExpressionAttributeValues: { ':channels': new Set([channel]) },
          }),
        );
      } catch (error) {
        // No record: nothing lists the channel.
        if (!isConditionFailure(error)) throw error;
      }
    },

    async remove(connectionId: string, channels: readonly string[] = []) {
      const meta = key(connectionKey(connectionId), 'META');
      const { Item } = await client.send(
        new GetCommand({ TableName: tableName, Key: meta, ConsistentRead: true, ProjectionExpression: CHANNELS }),
      );
      const recorded = Item?.[CHANNELS] instanceof Set ? [...(Item[CHANNELS] as Set<string>)] : [];
      const all = new Set([...recorded, ...channels]);
      const keys = [meta, ...[...all].map((channel) => key(channelKey(channel), connectionKey(connectionId)))];
      await writeAll(keys.map((Key) => ({ DeleteRequest: { Key } })));
    },

    async *members(channel: string) {
      // TTL deletion lags by up to days, so expired items are filtered out on read.
      const nowSeconds = Math.floor(clock.now() / 1000);
      // A read ahead fails while nobody awaits it yet (the consumer is busy delivering): mark it
      // handled at once, or Node (and Lambda) would end the process on an unhandled rejection.
      // Awaiting it later still throws to the consumer.
      const readPage = (startKey?: Record<string, unknown>) => {
        const page = client.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: `${partitionKey} = :channel`,
            FilterExpression: `${ttlAttribute} > :now`,
            ProjectionExpression: 'connectionId, connectedAt',
            ExpressionAttributeValues: { ':channel': channelKey(channel), ':now': nowSeconds },
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
