import { type AttributeValue, type DynamoDBClient, PutItemCommand, paginateScan } from '@aws-sdk/client-dynamodb';
import type { InitializeMiddleware } from '@smithy/types';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDynamoClient } from '../../src/aws/dynamo-client.js';
import { createDynamoStore, MEMBERS_PAGE_SIZE, UnprocessedWritesError } from '../../src/aws/dynamo-store.js';
import { type ConnectionStore, type Member, RelayError } from '../../src/core/index.js';
import type { EmbeddedDynamo } from '../../src/local/dynamodb.js';
import { startTestDynamo } from '../helpers/dynamo.js';

const NOW = 1_700_000_000_000;
const LIVE = NOW / 1000 + 3600;
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const clock = { now: () => NOW };

/** Member ids, page by page. */
async function collect(pages: AsyncIterable<Member[]>): Promise<string[][]> {
  const all: string[][] = [];
  for await (const page of pages) all.push(page.map((member) => member.connectionId));
  return all;
}

/** A fault or a probe in the SDK's own pipeline, before the document client's marshalling. */
type Middleware = InitializeMiddleware<any, any>;

describe('DynamoDB connection store (SDK client, dynalite)', () => {
  let dynamo: EmbeddedDynamo;
  let client: DynamoDBClient;
  let tableName: string;
  let store: ConnectionStore;
  /** A document client of the store's own making, to inject a fault dynalite cannot produce. */
  const faulty = (fault: Middleware) => {
    const documents = createDynamoClient({ region: 'us-east-1', dynamodbEndpoint: dynamo.endpoint }, LOCAL_CREDENTIALS);
    documents.middlewareStack.add(fault, { step: 'initialize' });
    return createDynamoStore({ client: documents, tableName, clock });
  };
  /** Every item of a connection, from every page of a Scan (the padded room alone fills several). */
  const itemsOf = async (connectionId: string) => {
    const items: Record<string, AttributeValue>[] = [];
    const pages = paginateScan(
      { client },
      {
        TableName: tableName,
        FilterExpression: 'connectionId = :id',
        ExpressionAttributeValues: { ':id': { S: connectionId } },
      },
    );
    for await (const page of pages) items.push(...(page.Items ?? []));
    return items;
  };

  beforeAll(async () => {
    ({ dynamo, client, tableName } = await startTestDynamo());
    const documents = createDynamoClient({ region: 'us-east-1', dynamodbEndpoint: dynamo.endpoint }, LOCAL_CREDENTIALS);
    store = createDynamoStore({ client: documents, tableName, clock });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(async () => {
    client.destroy();
    await dynamo.close();
  });

  it("lists a room's members (with connectedAt) by Query; remove() deletes every item of a connection", async () => {
    await store.add({ connectionId: 'a1', connectedAt: NOW, sourceIp: '1.2.3.4', expiresAt: LIVE }, 'r1');
    await store.add({ connectionId: 'a2', connectedAt: NOW, sourceIp: '1.2.3.4', expiresAt: LIVE }, 'r1');
    await store.add({ connectionId: 'b1', connectedAt: NOW, sourceIp: '1.2.3.4', expiresAt: LIVE }, 'r2');

    expect((await collect(store.members('r1'))).flat().sort()).toEqual(['a1', 'a2']);
    for await (const page of store.members('r2')) expect(page).toEqual([{ connectionId: 'b1', connectedAt: NOW }]);

    await store.remove('a1');
    expect((await collect(store.members('r1'))).flat()).toEqual(['a2']);
    expect(await itemsOf('a1')).toEqual([]);
    expect(await itemsOf('a2')).toHaveLength(2);
  });

  it('stores what $connect knows about the connection, in the attribute types the table expects', async () => {
    await store.add({ connectionId: 'm1', connectedAt: NOW, sourceIp: '198.51.100.7', expiresAt: LIVE }, 'meta');

    const items = await itemsOf('m1');
    const meta = items.find((item) => item.pk?.S === 'CONN#m1');
    const membership = items.find((item) => item.pk?.S === 'ROOM#meta');

    expect(meta).toEqual({
      pk: { S: 'CONN#m1' },
      sk: { S: 'META' },
      connectionId: { S: 'm1' },
      sourceIp: { S: '198.51.100.7' },
      connectedAt: { N: String(NOW) },
      expiresAt: { N: String(LIVE) },
      rooms: { SS: ['meta'] },
    });
    expect(membership).toEqual({
      pk: { S: 'ROOM#meta' },
      sk: { S: 'CONN#m1' },
      connectionId: { S: 'm1' },
      connectedAt: { N: String(NOW) },
      expiresAt: { N: String(LIVE) },
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

  it('a read-ahead page that fails while the consumer delivers reaches the consumer, not the process', async () => {
    await Promise.all(
      Array.from({ length: MEMBERS_PAGE_SIZE + 1 }, (_, i) =>
        store.add({ connectionId: `f${i}`, connectedAt: NOW, sourceIp: '::1', expiresAt: LIVE }, 'flaky'),
      ),
    );
    // DynamoDB failing on the second page only.
    let queries = 0;
    const flakyStore = faulty((next, context) => async (args) => {
      if (context.commandName === 'QueryCommand' && ++queries === 2) throw new Error('throttled for good');
      return next(args);
    });
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

    expect(queries).toBe(2);
    expect(unhandled).toEqual([]);
  });

  it('sends the writes DynamoDB left unprocessed again, until all are done', async () => {
    // DynamoDB processing one write of the first batch and handing the other back, as when throttled.
    const batches: number[] = [];
    const throttledStore = faulty((next, context) => async (args) => {
      if (context.commandName !== 'BatchWriteItemCommand') return next(args);
      const input = args.input as { RequestItems: Record<string, unknown[]> };
      const [table, writes] = Object.entries(input.RequestItems)[0]!;
      batches.push(writes.length);
      if (batches.length > 1) return next(args);
      const [first, ...rest] = writes;
      const result = await next({ ...args, input: { ...input, RequestItems: { [table]: [first] } } });
      (result.output as { UnprocessedItems?: unknown }).UnprocessedItems = { [table]: rest };
      return result;
    });

    await throttledStore.add({ connectionId: 'u1', connectedAt: NOW, sourceIp: '::1', expiresAt: LIVE }, 'unproc');

    expect(batches).toEqual([2, 1]);
    expect(await itemsOf('u1')).toHaveLength(2);
    expect((await collect(store.members('unproc'))).flat()).toEqual(['u1']);
  });

  it('gives up on writes DynamoDB keeps leaving unprocessed, with an error naming the table', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    let batches = 0;
    // Never reaches DynamoDB: every write of every batch comes back unprocessed.
    const saturatedStore = faulty((next, context) => async (args) => {
      if (context.commandName !== 'BatchWriteItemCommand') return next(args);
      batches++;
      return {
        output: { UnprocessedItems: (args.input as { RequestItems: unknown }).RequestItems, $metadata: {} },
        response: {},
      };
    });

    const adding = saturatedStore
      .add({ connectionId: 'u2', connectedAt: NOW, sourceIp: '::1', expiresAt: LIVE }, 'unproc')
      .catch((error: unknown) => error);
    await vi.runAllTimersAsync();
    const error = await adding;

    expect(error).toBeInstanceOf(UnprocessedWritesError);
    expect(error).toBeInstanceOf(RelayError);
    expect(error).toMatchObject({ name: 'UnprocessedWritesError', tableName, unprocessed: 2 });
    expect(batches).toBe(9);
  });

  it("reads a connection's rooms with a strongly consistent GetItem before deleting", async () => {
    const reads: unknown[] = [];
    const recordingStore = faulty((next, context) => async (args) => {
      if (context.commandName === 'GetItemCommand') reads.push(args.input);
      return next(args);
    });
    await store.add({ connectionId: 'c1', connectedAt: NOW, sourceIp: '::1', expiresAt: LIVE }, 'consistent');

    await recordingStore.remove('c1');

    expect(reads).toEqual([expect.objectContaining({ ConsistentRead: true, Key: { pk: 'CONN#c1', sk: 'META' } })]);
    expect(await itemsOf('c1')).toEqual([]);
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

    expect(await itemsOf('many')).toHaveLength(31);

    await store.remove(
      'many',
      Array.from({ length: 30 }, (_, i) => `room${i}`),
    );

    expect(await itemsOf('many')).toEqual([]);
  });
});

describe('the store finds its DynamoDB as the SDK finds any endpoint', () => {
  let dynamo: EmbeddedDynamo;
  let client: DynamoDBClient;
  let tableName: string;
  /** A port nothing listens on: a request sent there fails at once. */
  const NOWHERE = 'http://127.0.0.1:9';

  beforeAll(async () => {
    ({ dynamo, client, tableName } = await startTestDynamo());
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  afterAll(async () => {
    client.destroy();
    await dynamo.close();
  });

  const roundTrip = async (config: { dynamodbEndpoint?: string }, connectionId: string) => {
    const documents = createDynamoClient({ region: 'us-east-1', ...config }, LOCAL_CREDENTIALS);
    const store = createDynamoStore({ client: documents, tableName, clock });
    await store.add({ connectionId, connectedAt: NOW, sourceIp: '::1', expiresAt: LIVE }, 'endpoints');
    const members = (await collect(store.members('endpoints'))).flat();
    return members;
  };

  it.each(['AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL'])(
    'without DYNAMODB_ENDPOINT, the SDK itself honours %s',
    async (variable) => {
      vi.stubEnv(variable, dynamo.endpoint);
      expect(await roundTrip({}, `via-${variable}`)).toContain(`via-${variable}`);
    },
  );

  it('AWS_ENDPOINT_URL_DYNAMODB wins over AWS_ENDPOINT_URL, as the SDK has it', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL', NOWHERE);
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynamo.endpoint);
    expect(await roundTrip({}, 'service-specific')).toContain('service-specific');
  });

  it('DYNAMODB_ENDPOINT (passed as the endpoint) wins over both', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL', NOWHERE);
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', NOWHERE);
    expect(await roundTrip({ dynamodbEndpoint: dynamo.endpoint }, 'explicit')).toContain('explicit');
  });

  it('an endpoint override that points nowhere fails the call: the override is really used', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', NOWHERE);
    vi.stubEnv('AWS_MAX_ATTEMPTS', '1');
    await expect(roundTrip({}, 'nowhere')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
