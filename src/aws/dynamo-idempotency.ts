import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { IdempotencyRecord, IdempotencyStore } from '../core/index.js';
import { type DynamoTable, epochSeconds, isConditionFailure, itemKey, TABLE_LAYOUT } from './dynamo-table.js';

const { partitionKey, ttlAttribute } = TABLE_LAYOUT;

/** The key is the partition key's last part, so it may hold any character, `#` included. */
const claimKey = (channel: string, key: string) => itemKey(`IDEM#${channel}#${key}`, 'META');
/** OFFSET is a reserved word in DynamoDB expressions. */
const OFFSET_NAME = { '#offset': 'offset' };

/** Idempotency keys, one `IDEM#<channel>#<key>` item each: the claim, then the offset it took. */
export function createDynamoIdempotency({ client, tableName, clock }: DynamoTable): IdempotencyStore {
  /** Writes the claim unless a live one holds the key; false when one does. */
  const put = async (
    channel: string,
    key: string,
    messageId: string,
    { expiresAt, staleBefore }: { expiresAt: number; staleBefore: number },
  ): Promise<boolean> => {
    const nowSeconds = epochSeconds(clock);
    try {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...claimKey(channel, key), messageId, claimedAt: nowSeconds, [ttlAttribute]: expiresAt },
          // None, expired (TTL deletes late), or left without an offset by a publish that died before taking one.
          ConditionExpression: `attribute_not_exists(${partitionKey}) OR ${ttlAttribute} <= :now OR (attribute_not_exists(#offset) AND claimedAt < :staleBefore)`,
          ExpressionAttributeNames: OFFSET_NAME,
          ExpressionAttributeValues: { ':now': nowSeconds, ':staleBefore': staleBefore },
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return false;
    }
  };

  const lookup = async (channel: string, key: string): Promise<IdempotencyRecord | undefined> => {
    const { Item } = await client.send(
      new GetCommand({ TableName: tableName, Key: claimKey(channel, key), ConsistentRead: true }),
    );
    if (!Item || Number(Item[ttlAttribute]) <= epochSeconds(clock)) return undefined;
    return { messageId: String(Item.messageId), ...(Item.offset !== undefined && { offset: Number(Item.offset) }) };
  };

  return {
    async claim(channel, key, messageId, times) {
      for (;;) {
        if (await put(channel, key, messageId, times)) return 'claimed';
        const record = await lookup(channel, key);
        if (record) return record;
        // Released (or expired) between the refused put and the read: claim it again.
      }
    },

    async settle(channel, key, messageId, offset) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: claimKey(channel, key),
            UpdateExpression: 'SET #offset = :offset',
            // Only this publish's claim: an UpdateItem on an absent item would create one without
            // expiresAt (kept for ever), and a claim taken over from a stalled publish is the other's.
            ConditionExpression: 'messageId = :messageId',
            ExpressionAttributeNames: OFFSET_NAME,
            ExpressionAttributeValues: { ':offset': offset, ':messageId': messageId },
          }),
        );
      } catch (error) {
        // The claim is gone (TTL deleted it) or another's: no repeat can be answered with this offset.
        if (!isConditionFailure(error)) throw error;
      }
    },

    lookup,

    async release(channel, key, messageId) {
      try {
        await client.send(
          new DeleteCommand({
            TableName: tableName,
            Key: claimKey(channel, key),
            // A settled claim stays: its publication is in the stream, repeats must still be refused.
            // Another publish's claim (taken over after this one stalled) stays too.
            ConditionExpression: 'attribute_not_exists(#offset) AND messageId = :messageId',
            ExpressionAttributeNames: OFFSET_NAME,
            ExpressionAttributeValues: { ':messageId': messageId },
          }),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    },
  };
}
