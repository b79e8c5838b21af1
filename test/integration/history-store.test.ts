import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { InitializeMiddleware } from '@smithy/types';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDynamoClient } from '../../src/aws/dynamo-client.js';
import { createDynamoStore } from '../../src/aws/dynamo-store.js';
import type { ConnectionStore, HistoryRange, StoredPublication } from '../../src/core/index.js';
import type { EmbeddedDynamo } from '../../src/local/dynamodb.js';
import { startTestDynamo } from '../helpers/dynamo.js';

const NOW = 1_700_000_000_000;
const NOW_SECONDS = NOW / 1000;
const DAY = 24 * 60 * 60;
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** A stored publication whose frame names its offset, as a message frame would. */
function publication(offset: number, padding = ''): StoredPublication {
  return { offset, frame: JSON.stringify({ type: 'message', offset, data: padding }) };
}

/** Offsets 1 to `count`. */
const upTo = (count: number) => Array.from({ length: count }, (_, i) => i + 1);

describe("channel history (the store's kept publications, dynalite)", () => {
  let dynamo: EmbeddedDynamo;
  let client: DynamoDBClient;
  let tableName: string;
  let store: ConnectionStore;
  let now = NOW;
  const clock = { now: () => now };
  /** Queries the store sends, counted in the SDK's own pipeline. */
  let queries = 0;
  const countQueries: InitializeMiddleware<any, any> = (next, context) => (args) => {
    if (context.commandName === 'QueryCommand') queries++;
    return next(args);
  };

  const appendAll = (channel: string, epoch: string, offsets: number[], ttlSeconds = DAY) =>
    Promise.all(offsets.map((offset) => store.append(channel, epoch, publication(offset), ttlSeconds)));
  const read = async (channel: string, range: HistoryRange) => (await store.read(channel, range)).map((p) => p.offset);

  beforeAll(async () => {
    ({ dynamo, client, tableName } = await startTestDynamo());
    const documents = createDynamoClient({ region: 'us-east-1', dynamodbEndpoint: dynamo.endpoint }, LOCAL_CREDENTIALS);
    documents.middlewareStack.add(countQueries, { step: 'initialize' });
    store = createDynamoStore({ client: documents, tableName, clock });
  });
  beforeEach(() => {
    now = NOW;
    queries = 0;
  });
  afterAll(async () => {
    client.destroy();
    await dynamo.close();
  });

  it('keeps one item per publication: HIST#<channel>#<epoch>, the offset padded to 16 digits, a TTL', async () => {
    await store.append('chat:layout', 'e1', publication(42), DAY);

    const { Item } = await client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { pk: { S: 'HIST#chat:layout#e1' }, sk: { S: '0000000000000042' } },
        ConsistentRead: true,
      }),
    );
    expect(Item).toEqual({
      pk: { S: 'HIST#chat:layout#e1' },
      sk: { S: '0000000000000042' },
      offset: { N: '42' },
      frame: { S: publication(42).frame },
      expiresAt: { N: String(NOW_SECONDS + DAY) },
    });
  });

  it('reads publications oldest first, with their frames, whatever order they were appended in', async () => {
    await appendAll('chat:order', 'e1', [3, 11, 1, 10, 2, 9]);

    const publications = await store.read('chat:order', { epoch: 'e1', after: 0, upTo: 11, limit: 100 });

    // Each with when it lapses: recovery checks the publication at `since` has time left.
    expect(publications).toEqual(
      [1, 2, 3, 9, 10, 11].map((offset) => ({ ...publication(offset), expiresAt: NOW / 1000 + DAY })),
    );
  });

  it('answers the latest `limit` publications of the range', async () => {
    await appendAll('chat:latest', 'e1', upTo(12));

    expect(await read('chat:latest', { epoch: 'e1', after: 0, upTo: 12, limit: 3 })).toEqual([10, 11, 12]);
  });

  it('reads only offsets in (after, upTo]: a publication after upTo does not move the answer', async () => {
    await appendAll('chat:bounds', 'e1', upTo(10));

    expect(await read('chat:bounds', { epoch: 'e1', after: 3, upTo: 7, limit: 100 })).toEqual([4, 5, 6, 7]);
    expect(await read('chat:bounds', { epoch: 'e1', after: 3, upTo: 7, limit: 2 })).toEqual([6, 7]);
    expect(await read('chat:bounds', { epoch: 'e1', after: 9, upTo: 10, limit: 100 })).toEqual([10]);
  });

  it('an empty range or a limit below 1 reads nothing', async () => {
    await appendAll('chat:empty', 'e1', upTo(3));
    queries = 0;

    expect(await read('chat:empty', { epoch: 'e1', after: 3, upTo: 3, limit: 10 })).toEqual([]);
    expect(await read('chat:empty', { epoch: 'e1', after: 3, upTo: 1, limit: 10 })).toEqual([]);
    expect(await read('chat:empty', { epoch: 'e1', after: 0, upTo: 3, limit: 0 })).toEqual([]);
    expect(queries).toBe(0);
  });

  it("never reads another epoch's publications, nor another channel's", async () => {
    await appendAll('chat:epochs', 'old', upTo(5));
    await store.append('chat:epochs', 'new', { offset: 1, frame: '{"epoch":"new"}' }, DAY);
    await appendAll('chat:epochs-other', 'new', upTo(5));

    const publications = await store.read('chat:epochs', { epoch: 'new', after: 0, upTo: 5, limit: 100 });

    expect(publications).toEqual([{ offset: 1, frame: '{"epoch":"new"}', expiresAt: NOW / 1000 + DAY }]);
  });

  it('leaves out expired publications that TTL has not deleted yet', async () => {
    await appendAll('chat:ttl', 'e1', [1, 2], 60);
    await appendAll('chat:ttl', 'e1', [3], 120);

    now = NOW + 60_000;

    // expiresAt is the first second a publication is no longer kept.
    expect(await read('chat:ttl', { epoch: 'e1', after: 0, upTo: 3, limit: 10 })).toEqual([3]);
  });

  it('reads on past pages of expired publications until `limit` live ones are found', async () => {
    // Newer publications expiring first (a namespace whose TTL was shortened): the newest pages hold none alive.
    await appendAll('chat:skip', 'e1', upTo(4), DAY);
    await appendAll('chat:skip', 'e1', upTo(20).slice(4), 10);
    now = NOW + 10_000;

    expect(await read('chat:skip', { epoch: 'e1', after: 0, upTo: 20, limit: 3 })).toEqual([2, 3, 4]);
    expect(queries).toBeGreaterThan(1);
  });

  it('reads a history larger than one DynamoDB page (1 MB) whole, in order', async () => {
    const padding = 'x'.repeat(100_000);
    for (const offset of upTo(20)) await store.append('chat:big', 'e1', publication(offset, padding), DAY);
    queries = 0;

    const publications = await store.read('chat:big', { epoch: 'e1', after: 0, upTo: 20, limit: 20 });

    expect(queries).toBeGreaterThan(1);
    expect(publications).toEqual(
      upTo(20).map((offset) => ({ ...publication(offset, padding), expiresAt: NOW / 1000 + DAY })),
    );
  });

  it('appending a publication again (a retried publish) keeps one item', async () => {
    await store.append('chat:retry', 'e1', publication(1), DAY);
    await store.append('chat:retry', 'e1', publication(1), DAY);

    expect(await read('chat:retry', { epoch: 'e1', after: 0, upTo: 1, limit: 10 })).toEqual([1]);
  });
});
