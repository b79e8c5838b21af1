import { PutCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { HistoryRange, HistoryStore, KeptPublication } from '../core/index.js';
import { type DynamoTable, epochSeconds, TABLE_LAYOUT } from './dynamo-table.js';

const { partitionKey, sortKey, ttlAttribute } = TABLE_LAYOUT;
type StartKey = QueryCommandInput['ExclusiveStartKey'];

const historyKey = (channel: string, epoch: string) => `HIST#${channel}#${epoch}`;
/** Sort keys are strings: padded, they sort as the offsets do (safe integers have at most 16 digits). */
const offsetKey = (offset: number) => String(offset).padStart(16, '0');

/** Kept publications: one `HIST#<channel>#<epoch>` partition per stream, sorted by offset. */
export function createDynamoHistory({ client, tableName, clock }: DynamoTable): HistoryStore {
  /** One page of the range, newest first; at most `limit` items are read, expired ones among them. */
  const readPage = (channel: string, range: HistoryRange, limit: number, startKey: StartKey) =>
    client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: `${partitionKey} = :stream AND ${sortKey} BETWEEN :from AND :to`,
        // TTL deletes late: an expired publication may still be there.
        FilterExpression: `${ttlAttribute} > :now`,
        ProjectionExpression: `#offset, frame, ${ttlAttribute}`,
        ExpressionAttributeNames: { '#offset': 'offset' },
        ExpressionAttributeValues: {
          ':stream': historyKey(channel, range.epoch),
          ':from': offsetKey(range.after + 1),
          ':to': offsetKey(range.upTo),
          ':now': epochSeconds(clock),
        },
        ScanIndexForward: false,
        // An acked publication must be in the answer.
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
        Limit: limit,
      }),
    );

  return {
    async append(channel, epoch, publication, ttlSeconds) {
      // Unconditional: a retried append writes the same item again.
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            [partitionKey]: historyKey(channel, epoch),
            [sortKey]: offsetKey(publication.offset),
            offset: publication.offset,
            frame: publication.frame,
            [ttlAttribute]: epochSeconds(clock) + ttlSeconds,
          },
        }),
      );
    },

    async read(channel, range) {
      if (range.limit <= 0 || range.after >= range.upTo) return [];
      const newestFirst: KeptPublication[] = [];
      let startKey: StartKey;
      do {
        // Limit counts the items read before the filter drops expired ones: read on until enough are live.
        const page = await readPage(channel, range, range.limit - newestFirst.length, startKey);
        for (const item of page.Items ?? [])
          newestFirst.push({
            offset: Number(item.offset),
            frame: String(item.frame),
            expiresAt: Number(item[ttlAttribute]),
          });
        startKey = page.LastEvaluatedKey;
      } while (startKey && newestFirst.length < range.limit);
      return newestFirst.reverse();
    },
  };
}
