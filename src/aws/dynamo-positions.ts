import { randomUUID } from 'node:crypto';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { PositionStore, StreamPosition } from '../core/index.js';
import { type DynamoTable, epochSeconds, isConditionFailure, itemKey, TABLE_LAYOUT } from './dynamo-table.js';

const { partitionKey, ttlAttribute } = TABLE_LAYOUT;

/** Each channel's publication counter, one `STREAM#<channel>` item. */
export function createDynamoPositions({ client, tableName, clock }: DynamoTable): PositionStore {
  /**
   * Adds `by` (0 or 1) to the channel's counter in one UpdateItem: DynamoDB applies one item's
   * updates one at a time, so concurrent publishers never share an offset. An absent item is
   * created with a new epoch. An expired one (TTL deletes late) must count as absent, so the
   * increment is conditional on a live item; when that fails, a second update restarts the
   * stream, conditional on its still being expired, so of racing restarts only one makes an epoch
   * and the others retry the increment on it.
   */
  const advance = async (channel: string, by: number, ttlSeconds: number): Promise<StreamPosition> => {
    const streamItem = itemKey(`STREAM#${channel}`, 'META');
    const nowSeconds = epochSeconds(clock);
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
    nextPosition: (channel, ttlSeconds) => advance(channel, 1, ttlSeconds),

    async position(channel, ttlSeconds) {
      // A read while the stream has more than half its TTL left: the one item takes every publish's
      // write, and a reconnect storm of subscribes must not compete for it. Otherwise an ADD 0 creates
      // or restarts the stream, or pushes its TTL back.
      const { Item } = await client.send(
        new GetCommand({
          TableName: tableName,
          Key: itemKey(`STREAM#${channel}`, 'META'),
          ConsistentRead: true,
          ProjectionExpression: `#offset, #epoch, ${ttlAttribute}`,
          ExpressionAttributeNames: { '#offset': 'offset', '#epoch': 'epoch' },
        }),
      );
      if (Item && Number(Item[ttlAttribute]) > epochSeconds(clock) + ttlSeconds / 2) {
        return { offset: Number(Item.offset ?? 0), epoch: String(Item.epoch) };
      }
      return advance(channel, 0, ttlSeconds);
    },
  };
}
