import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../core/index.js';

/**
 * The key and TTL attribute names of the single table. The items are described where the store
 * composes its parts (dynamo-store.ts); infra/connections-table.yml declares the names for CloudFormation.
 */
export const TABLE_LAYOUT = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
} as const;

/** What every part of the store works on: one table, through the document client, on the injected clock. */
export interface DynamoTable {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock: Clock;
}

export type Key = Record<string, string>;

/** One item's primary key. */
export function itemKey(pk: string, sk: string): Key {
  return { [TABLE_LAYOUT.partitionKey]: pk, [TABLE_LAYOUT.sortKey]: sk };
}

export const connectionKey = (connectionId: string) => `CONN#${connectionId}`;
export const channelKey = (channel: string) => `CHAN#${channel}`;

/** The clock in epoch seconds, the TTL attribute's unit. TTL deletes late, so readers compare with it. */
export function epochSeconds(clock: Clock): number {
  return Math.floor(clock.now() / 1000);
}

/** A conditional write found its condition false (the SDK's ConditionalCheckFailedException). */
export function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}
