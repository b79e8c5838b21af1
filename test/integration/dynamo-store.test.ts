import { type DynamoDBClient, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoStore, MEMBERS_PAGE_SIZE } from '../../src/aws/dynamo-store.js';
import type { DynamoApi } from '../../src/aws/dynamodb-api.js';
import { createDynamoHttpApi } from '../../src/aws/dynamodb-http-api.js';
import { sdkDynamoApi } from '../../src/aws/dynamodb-sdk-api.js';
import type { ConnectionStore, Member } from '../../src/core/index.js';
import type { EmbeddedDynamo } from '../../src/local/dynamodb.js';
import { startTestDynamo } from '../helpers/dynamo.js';

const NOW = 1_700_000_000_000;
const LIVE = NOW / 1000 + 3600;

/** Member ids, page by page. */
async function collect(pages: AsyncIterable<Member[]>): Promise<string[][]> {
  const all: string[][] = [];
  for await (const page of pages) all.push(page.map((member) => member.connectionId));
  return all;
}

/** The store runs on either DynamoDB client: both must behave the same. */
const clients: [string, (dynamo: EmbeddedDynamo, sdk: DynamoDBClient) => DynamoApi][] = [
  [
    'signed HTTP (default)',
    (dynamo) =>
      createDynamoHttpApi({
        region: 'us-east-1',
        endpoint: dynamo.endpoint,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
  ],
  ['SDK client', (_dynamo, sdk) => sdkDynamoApi(sdk)],
];

describe.each(clients)('DynamoDB connection store (dynalite) on the %s', (_name, api) => {
  let dynamo: EmbeddedDynamo;
  let client: DynamoDBClient;
  let tableName: string;
  let store: ConnectionStore;

  beforeAll(async () => {
    ({ dynamo, client, tableName } = await startTestDynamo());
    store = createDynamoStore({ dynamo: api(dynamo, client), tableName, clock: { now: () => NOW } });
  });
  afterAll(async () => {
    client.destroy();
    await dynamo.close();
  });

  it('lists the members of a room (with connectedAt) by Query, and remove() deletes every item of a connection', async () => {
    await store.add({ connectionId: 'a1', connectedAt: NOW, sourceIp: '1.2.3.4', expiresAt: LIVE }, 'r1');
    await store.add({ connectionId: 'a2', connectedAt: NOW, sourceIp: '1.2.3.4', expiresAt: LIVE }, 'r1');
    await store.add({ connectionId: 'b1', connectedAt: NOW, sourceIp: '1.2.3.4', expiresAt: LIVE }, 'r2');

    expect((await collect(store.members('r1'))).flat().sort()).toEqual(['a1', 'a2']);
    for await (const page of store.members('r2')) expect(page).toEqual([{ connectionId: 'b1', connectedAt: NOW }]);

    await store.remove('a1');
    expect((await collect(store.members('r1'))).flat()).toEqual(['a2']);
    const { Items } = await client.send(new ScanCommand({ TableName: tableName }));
    expect(Items!.some((item) => item.connectionId?.S === 'a1')).toBe(false);
    expect(Items!.filter((item) => item.connectionId?.S === 'a2')).toHaveLength(2);
  });

  it('stores what $connect knows about the connection', async () => {
    await store.add({ connectionId: 'm1', connectedAt: NOW, sourceIp: '198.51.100.7', expiresAt: LIVE }, 'meta');

    const { Items } = await client.send(new ScanCommand({ TableName: tableName }));
    const meta = Items!.find((item) => item.pk?.S === 'CONN#m1');

    expect(meta).toMatchObject({
      sk: { S: 'META' },
      sourceIp: { S: '198.51.100.7' },
      connectedAt: { N: String(NOW) },
      expiresAt: { N: String(LIVE) },
      rooms: { SS: ['meta'] },
    });
  });

  it('ignores expired items that TTL has not deleted yet', async () => {
    await store.add({ connectionId: 'old', connectedAt: NOW - 1e7, sourceIp: '::1', expiresAt: NOW / 1000 - 1 }, 'ttl');
    await store.add({ connectionId: 'new', connectedAt: NOW, sourceIp: '::1', expiresAt: LIVE }, 'ttl');

    expect((await collect(store.members('ttl'))).flat()).toEqual(['new']);
  });

  it('pages through rooms larger than one DynamoDB page (1 MB) and yields every member once', async () => {
    // Pad membership items so a handful of pages is reached with few writes.
    const padding = 'x'.repeat(300_000);
    for (let i = 0; i < 8; i++) {
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: {
            pk: { S: 'ROOM#big' },
            sk: { S: `CONN#p${i}` },
            connectionId: { S: `p${i}` },
            expiresAt: { N: String(LIVE) },
            pad: { S: padding },
          },
        }),
      );
    }

    const pages = await collect(store.members('big'));

    expect(pages.length).toBeGreaterThan(1);
    expect(pages.flat().sort()).toEqual(Array.from({ length: 8 }, (_, i) => `p${i}`));
  });

  it(`yields a large room in pages of at most ${MEMBERS_PAGE_SIZE} members, each member once`, async () => {
    const count = MEMBERS_PAGE_SIZE * 2 + 10;
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        store.add({ connectionId: `m${i}`, connectedAt: NOW, sourceIp: '::1', expiresAt: LIVE }, 'crowd'),
      ),
    );

    const pages = await collect(store.members('crowd'));

    expect(pages.map((page) => page.length)).toEqual([MEMBERS_PAGE_SIZE, MEMBERS_PAGE_SIZE, 10]);
    expect(new Set(pages.flat()).size).toBe(count);
  });

  it('a page read ahead that fails while the consumer is still delivering reaches the consumer, not the process', async () => {
    await Promise.all(
      Array.from({ length: MEMBERS_PAGE_SIZE + 1 }, (_, i) =>
        store.add({ connectionId: `f${i}`, connectedAt: NOW, sourceIp: '::1', expiresAt: LIVE }, 'flaky'),
      ),
    );
    // DynamoDB failing on the second page only is a fault dynalite cannot produce: inject it.
    const real = api(dynamo, client);
    let queries = 0;
    const failingSecondPage: DynamoApi = {
      ...real,
      query: (input) => (++queries === 2 ? Promise.reject(new Error('throttled for good')) : real.query(input)),
    };
    const flakyStore = createDynamoStore({ dynamo: failingSecondPage, tableName, clock: { now: () => NOW } });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);

    try {
      const slowConsumer = async () => {
        for await (const _page of flakyStore.members('flaky')) await new Promise((resolve) => setTimeout(resolve, 50));
      };
      await expect(slowConsumer()).rejects.toThrow('throttled for good');
      await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }

    expect(unhandled).toEqual([]);
  });

  it('removing an unknown connection is not an error', async () => {
    await expect(store.remove('never-seen')).resolves.toBeUndefined();
  });

  it('removes a membership that outlived its record when told the room (a $connect that failed halfway)', async () => {
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          pk: { S: 'ROOM#orphans' },
          sk: { S: 'CONN#orphan' },
          connectionId: { S: 'orphan' },
          connectedAt: { N: '0' },
          expiresAt: { N: String(LIVE) },
        },
      }),
    );

    await store.remove('orphan', ['orphans']);

    expect((await collect(store.members('orphans'))).flat()).toEqual([]);
  });

  it('removes a connection with more than 25 items (several BatchWrite calls)', async () => {
    for (let i = 0; i < 30; i++) {
      await store.add({ connectionId: 'many', connectedAt: NOW, sourceIp: '::1', expiresAt: LIVE }, `room${i}`);
    }

    await store.remove(
      'many',
      Array.from({ length: 30 }, (_, i) => `room${i}`),
    );

    const { Items } = await client.send(new ScanCommand({ TableName: tableName }));
    expect(Items!.filter((item) => item.connectionId?.S === 'many')).toEqual([]);
  });
});
