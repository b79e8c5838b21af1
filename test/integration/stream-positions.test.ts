import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClient } from '../../src/aws/dynamo-client.js';
import { createDynamoStore } from '../../src/aws/dynamo-store.js';
import type { ConnectionStore } from '../../src/core/index.js';
import type { EmbeddedDynamo } from '../../src/local/dynamodb.js';
import { startTestDynamo } from '../helpers/dynamo.js';

const NOW = 1_700_000_000_000;
const NOW_SECONDS = NOW / 1000;
const DAY = 24 * 60 * 60;
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

describe("channel stream positions (the store's counter, dynalite)", () => {
  let dynamo: EmbeddedDynamo;
  let client: DynamoDBClient;
  let tableName: string;
  let store: ConnectionStore;
  const streamItem = (channel: string) =>
    client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { pk: { S: `STREAM#${channel}` }, sk: { S: 'META' } },
        ConsistentRead: true,
      }),
    );

  beforeAll(async () => {
    ({ dynamo, client, tableName } = await startTestDynamo());
    const documents = createDynamoClient({ region: 'us-east-1', dynamodbEndpoint: dynamo.endpoint }, LOCAL_CREDENTIALS);
    store = createDynamoStore({ client: documents, tableName, clock: { now: () => NOW } });
  });
  afterAll(async () => {
    client.destroy();
    await dynamo.close();
  });

  it('50 parallel publications get 50 distinct consecutive offsets, 1 to 50, in one epoch', async () => {
    const positions = await Promise.all(Array.from({ length: 50 }, () => store.nextPosition('chat:race', DAY)));

    expect(positions.map((position) => position.offset).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    expect(new Set(positions.map((position) => position.epoch)).size).toBe(1);
    expect(await store.position('chat:race', DAY)).toEqual({ offset: 50, epoch: positions[0]!.epoch });
  });

  it('an unknown channel is at offset 0 with an epoch that stays the same from then on', async () => {
    const first = await store.position('chat:quiet', DAY);

    expect(first).toEqual({ offset: 0, epoch: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(await store.position('chat:quiet', DAY)).toEqual(first);
    expect(await store.nextPosition('chat:quiet', DAY)).toEqual({ offset: 1, epoch: first.epoch });
  });

  it('channels count independently, each in its own epoch', async () => {
    const a1 = await store.nextPosition('chat:a', DAY);
    const b1 = await store.nextPosition('chat:b', DAY);
    const a2 = await store.nextPosition('chat:a', DAY);

    expect([a1.offset, b1.offset, a2.offset]).toEqual([1, 1, 2]);
    expect(a2.epoch).toBe(a1.epoch);
    expect(b1.epoch).not.toBe(a1.epoch);
  });

  it('keeps the counter on its own partition, with a TTL refreshed by every publication', async () => {
    await store.nextPosition('chat:ttl', DAY);
    await store.nextPosition('chat:ttl', 2 * DAY);

    const { Item } = await streamItem('chat:ttl');
    expect(Item).toEqual({
      pk: { S: 'STREAM#chat:ttl' },
      sk: { S: 'META' },
      offset: { N: '2' },
      epoch: { S: expect.any(String) },
      expiresAt: { N: String(NOW_SECONDS + 2 * DAY) },
    });
    // A fan-out's Query on CHAN#chat:ttl never reads it.
    expect(await store.members('chat:ttl')[Symbol.asyncIterator]().next()).toEqual({ done: true, value: undefined });
  });

  it('an expired stream item (TTL deletes late) counts as absent: a new epoch, offsets from 1 again', async () => {
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          pk: { S: 'STREAM#chat:old' },
          sk: { S: 'META' },
          offset: { N: '41' },
          epoch: { S: 'old-epoch' },
          expiresAt: { N: String(NOW_SECONDS - 1) },
        },
      }),
    );

    const restarted = await store.nextPosition('chat:old', DAY);

    expect(restarted.offset).toBe(1);
    expect(restarted.epoch).not.toBe('old-epoch');
    expect(await store.nextPosition('chat:old', DAY)).toEqual({ offset: 2, epoch: restarted.epoch });
  });

  it('a position is a read while the stream has over half its TTL left, then pushes the TTL back', async () => {
    const putStream = (expiresAt: number) =>
      client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: {
            pk: { S: 'STREAM#chat:read' },
            sk: { S: 'META' },
            offset: { N: '5' },
            epoch: { S: 'e' },
            expiresAt: { N: String(expiresAt) },
          },
        }),
      );
    const expiresAt = async () => Number((await streamItem('chat:read')).Item!.expiresAt!.N);

    await putStream(NOW_SECONDS + DAY / 2 + 1);
    expect(await store.position('chat:read', DAY)).toEqual({ offset: 5, epoch: 'e' });
    expect(await expiresAt()).toBe(NOW_SECONDS + DAY / 2 + 1);

    await putStream(NOW_SECONDS + DAY / 2);
    expect(await store.position('chat:read', DAY)).toEqual({ offset: 5, epoch: 'e' });
    expect(await expiresAt()).toBe(NOW_SECONDS + DAY);
  });

  it('an expired stream item read by a subscribe restarts at offset 0', async () => {
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          pk: { S: 'STREAM#chat:stale' },
          sk: { S: 'META' },
          offset: { N: '7' },
          epoch: { S: 'stale-epoch' },
          expiresAt: { N: String(NOW_SECONDS) },
        },
      }),
    );

    const position = await store.position('chat:stale', DAY);

    expect(position).toEqual({ offset: 0, epoch: expect.any(String) });
    expect(position.epoch).not.toBe('stale-epoch');
  });

  it('publishers racing on an expired item restart it once: one new epoch, offsets 1 to 20', async () => {
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          pk: { S: 'STREAM#chat:stampede' },
          sk: { S: 'META' },
          offset: { N: '99' },
          epoch: { S: 'gone-epoch' },
          expiresAt: { N: String(NOW_SECONDS - 60) },
        },
      }),
    );

    const positions = await Promise.all(Array.from({ length: 20 }, () => store.nextPosition('chat:stampede', DAY)));

    expect(positions.map((position) => position.offset).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    const epochs = new Set(positions.map((position) => position.epoch));
    expect(epochs.size).toBe(1);
    expect(epochs.has('gone-epoch')).toBe(false);
  });
});
