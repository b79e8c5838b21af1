import { type NativeAttributeValue, paginateQuery, QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { ConnectionStore, Member, PresenceMember, Subscriber } from '../core/index.js';
import { channelKey, connectionKey, type DynamoTable, epochSeconds, itemKey, TABLE_LAYOUT } from './dynamo-table.js';

const { partitionKey, ttlAttribute } = TABLE_LAYOUT;

/**
 * Members per Query page. Smaller than DynamoDB's 1 MB page (~8,000 members), so the first
 * deliveries start after a short read, and later pages are read while earlier ones are sent.
 * Read units barely change: they are counted on the bytes read, rounded up to 4 KB per page.
 */
export const MEMBERS_PAGE_SIZE = 250;

type Item = Record<string, NativeAttributeValue>;

/** The attributes the record and every membership share; userId and info only when there are some (anonymous: none). */
export function subscriberAttributes(subscriber: Subscriber): Item {
  return {
    connectionId: subscriber.connectionId,
    connectedAt: subscriber.connectedAt,
    ...(subscriber.userId !== null && { userId: subscriber.userId }),
    // As JSON text: a map would not round-trip every JSON value (unsafe integers, empty keys).
    ...(subscriber.info !== null && { info: JSON.stringify(subscriber.info) }),
    [ttlAttribute]: subscriber.expiresAt,
  };
}

export function membershipItem(subscriber: Subscriber, channel: string): Item {
  return {
    ...itemKey(channelKey(channel), connectionKey(subscriber.connectionId)),
    ...subscriberAttributes(subscriber),
  };
}

/** Who a record or membership names, as subscriberAttributes wrote it. */
export function identityOf(item: Item): Pick<PresenceMember, 'userId' | 'info'> {
  return {
    userId: typeof item.userId === 'string' ? item.userId : null,
    info: typeof item.info === 'string' ? (JSON.parse(item.info) as PresenceMember['info']) : null,
  };
}

/**
 * A channel's memberships as fan-out and presence read them: a Query on the channel's partition,
 * strongly consistent (a subscribe that returned is seen by the next fan-out; recovery relies on it),
 * expired items filtered out (TTL deletion lags by up to days).
 */
export function createDynamoMemberships({ client, tableName, clock }: DynamoTable) {
  const channelQuery = (channel: string, projection: string) => ({
    TableName: tableName,
    KeyConditionExpression: `${partitionKey} = :channel`,
    FilterExpression: `${ttlAttribute} > :now`,
    ProjectionExpression: projection,
    ExpressionAttributeValues: { ':channel': channelKey(channel), ':now': epochSeconds(clock) },
    ConsistentRead: true,
  });

  return {
    async *members(channel: string) {
      const query = channelQuery(channel, 'connectionId, connectedAt');
      // A read ahead fails while nobody awaits it yet (the consumer is busy delivering): mark it
      // handled at once, or Node (and Lambda) would end the process on an unhandled rejection.
      // Awaiting it later still throws to the consumer.
      const readPage = (startKey?: Item) => {
        const page = client.send(new QueryCommand({ ...query, ExclusiveStartKey: startKey, Limit: MEMBERS_PAGE_SIZE }));
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

    async presence(channel: string) {
      const members: PresenceMember[] = [];
      for await (const page of paginateQuery({ client }, channelQuery(channel, 'connectionId, userId, info'))) {
        for (const item of page.Items ?? []) {
          if (typeof item.connectionId === 'string')
            members.push({ connectionId: item.connectionId, ...identityOf(item) });
        }
      }
      return members;
    },
  } satisfies Pick<ConnectionStore, 'members' | 'presence'>;
}
