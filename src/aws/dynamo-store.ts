import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type ConnectionRecord,
  type ConnectionStore,
  type PresenceMember,
  RelayError,
  type RemovedConnection,
  type SubscribeResult,
  type Subscriber,
} from '../core/index.js';
import { createDynamoHistory } from './dynamo-history.js';
import { createDynamoIdempotency } from './dynamo-idempotency.js';
import { createDynamoMemberships, identityOf, membershipItem, subscriberAttributes } from './dynamo-memberships.js';
import { createDynamoPositions } from './dynamo-positions.js';
import {
  channelKey,
  connectionKey,
  type DynamoTable,
  isConditionFailure,
  itemKey,
  type Key,
  TABLE_LAYOUT,
} from './dynamo-table.js';
import { withRetries } from './retry.js';

/**
 * The single-table layout the store relies on. infra/connections-table.yml declares it for
 * CloudFormation; test/integration/table-schema.test.ts keeps the two in step.
 *
 *   pk = CONN#<id>        sk = META       the connection: connectedAt, sourceIp, userId, info,
 *                                         channels (a string set: its memberships)
 *   pk = CHAN#<channel>   sk = CONN#<id>  a membership: connectionId, connectedAt, userId, info;
 *                                         a fan-out is a Query on pk, presence too
 *   pk = STREAM#<channel> sk = META       the channel's stream: offset (its last publication's),
 *                                         epoch (random, made with the item); its own partition
 *                                         so a fan-out's Query never reads it
 *   pk = HIST#<channel>#<epoch>           a kept publication: offset, frame (the message frame's
 *        sk = <offset, 16 digits>         JSON text); never deleted by the relay: the window (the
 *                                         latest historySize) is applied on read, TTL deletes it
 *   pk = IDEM#<channel>#<key> sk = META   an idempotency key: messageId, claimedAt (epoch s),
 *                                         offset (once the claiming publish took one)
 *   expiresAt (epoch seconds) is the TTL attribute on every item; userId and info (JSON text)
 *   are absent for anonymous connections. Channel names never contain `#`.
 *   Their code: dynamo-positions.ts (STREAM), dynamo-history.ts (HIST), dynamo-idempotency.ts
 *   (IDEM), dynamo-memberships.ts (the CHAN items' attributes, their reads); here the writes of
 *   CONN and CHAN items.
 *
 * $disconnect deletes the record first and reads its channels from what the DeleteItem returns:
 * strongly consistent (an index would not be, and a quick connect-disconnect could leave
 * memberships behind), and only one of concurrent removes gets them, so leave events go out once.
 * dynalite has no transactions, so subscribe and unsubscribe are two writes each, ordered so a
 * half-done one is repaired by repeating it (and lapses with the connection's TTL otherwise).
 */
export { TABLE_LAYOUT };

const BATCH_WRITE_LIMIT = 25;
/**
 * Unprocessed batch items are DynamoDB throttling part of a batch: back off and send the rest
 * again, briefly (a $connect waits on it). The SDK's own retries cover whole failed calls.
 */
const UNPROCESSED_RETRIES = { maxAttempts: 9, baseMs: 20 };

/** The record's attribute listing its channels; the subscription limit counts it. */
const CHANNELS = 'channels';
const { partitionKey } = TABLE_LAYOUT;

type WriteRequest = NonNullable<BatchWriteCommandInput['RequestItems']>[string][number];

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

export type DynamoStoreOptions = DynamoTable;

/** ConnectionStore on one DynamoDB table; pagination is hidden behind AsyncIterable. */
export function createDynamoStore(table: DynamoStoreOptions): ConnectionStore {
  const { client, tableName } = table;
  const recordKey = (connectionId: string) => itemKey(connectionKey(connectionId), 'META');
  const membershipKey = (connectionId: string, channel: string) =>
    itemKey(channelKey(channel), connectionKey(connectionId));

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
  const deleteAll = (keys: Key[]) => writeAll(keys.map((Key) => ({ DeleteRequest: { Key } })));

  /** Deletes the record; what it held when this call deleted it, undefined when there was none. */
  const deleteRecord = async (connectionId: string): Promise<RemovedConnection | undefined> => {
    const { Attributes } = await client.send(
      new DeleteCommand({ TableName: tableName, Key: recordKey(connectionId), ReturnValues: 'ALL_OLD' }),
    );
    if (!Attributes) return undefined;
    const channels = Attributes[CHANNELS] instanceof Set ? [...(Attributes[CHANNELS] as Set<string>)] : [];
    return { ...identityOf(Attributes), channels };
  };

  const dropMembership = async (connectionId: string, channel: string): Promise<PresenceMember | undefined> => {
    const { Attributes } = await client.send(
      new DeleteCommand({ TableName: tableName, Key: membershipKey(connectionId, channel), ReturnValues: 'ALL_OLD' }),
    );
    return Attributes === undefined ? undefined : { connectionId, ...identityOf(Attributes) };
  };

  return {
    ...createDynamoPositions(table),
    ...createDynamoHistory(table),
    ...createDynamoIdempotency(table),
    ...createDynamoMemberships(table),

    async add(connection: ConnectionRecord, channels: readonly string[]) {
      const { sourceIp, ...subscriber } = connection;
      // One request for the record and its memberships: $connect's latency is the handshake's.
      await writeAll([
        {
          PutRequest: {
            Item: {
              ...recordKey(connection.connectionId),
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
      const meta = recordKey(subscriber.connectionId);
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
      const member = await dropMembership(connectionId, channel);
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: recordKey(connectionId),
            UpdateExpression: `DELETE ${CHANNELS} :channels`,
            ConditionExpression: `attribute_exists(${partitionKey})`,
            ExpressionAttributeValues: { ':channels': new Set([channel]) },
          }),
        );
      } catch (error) {
        // No record: nothing lists the channel.
        if (!isConditionFailure(error)) throw error;
      }
      return member;
    },

    dropMembership,

    async remove(connectionId: string) {
      // A failure after the record is gone leaves its memberships to fan-out's pruning and to TTL: a
      // repeated remove no longer finds them. The price of the record answering exactly one caller.
      const removed = await deleteRecord(connectionId);
      await deleteAll((removed?.channels ?? []).map((channel) => membershipKey(connectionId, channel)));
      return removed;
    },
  };
}
