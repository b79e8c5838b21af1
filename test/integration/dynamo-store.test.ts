import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  paginateScan,
} from '@aws-sdk/client-dynamodb';
import type { InitializeMiddleware } from '@smithy/types';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDynamoClient } from '../../src/aws/dynamo-client.js';
import { MEMBERS_PAGE_SIZE } from '../../src/aws/dynamo-memberships.js';
import { createDynamoStore, UnprocessedWritesError } from '../../src/aws/dynamo-store.js';
import {
  type ConnectionRecord,
  type ConnectionStore,
  type Member,
  RelayError,
  type Subscriber,
} from '../../src/core/index.js';
import type { EmbeddedDynamo } from '../../src/local/dynamodb.js';
import { startTestDynamo } from '../helpers/dynamo.js';

const NOW = 1_700_000_000_000;
const LIVE = NOW / 1000 + 3600;
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const clock = { now: () => NOW };

/** A connection record as $connect writes it; anonymous unless told otherwise. */
function record(connectionId: string, overrides: Partial<ConnectionRecord> = {}): ConnectionRecord {
  return { connectionId, connectedAt: NOW, sourceIp: '::1', userId: null, info: null, expiresAt: LIVE, ...overrides };
}

/** The subscriber part of a record: what subscribe writes on a membership. */
function subscriber(connectionId: string, overrides: Partial<Subscriber> = {}): Subscriber {
  const { sourceIp: _, ...rest } = record(connectionId, overrides);
  return rest;
}

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
  /** Every item of a connection, from every page of a Scan (the padded channel alone fills several). */
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

  it("lists a channel's members (with connectedAt) by Query; remove() deletes every item of a connection", async () => {
    await store.add(record('a1', { sourceIp: '1.2.3.4' }), ['r1']);
    await store.add(record('a2', { sourceIp: '1.2.3.4' }), ['r1']);
    await store.add(record('b1', { sourceIp: '1.2.3.4' }), ['r2']);

    expect((await collect(store.members('r1'))).flat().sort()).toEqual(['a1', 'a2']);
    for await (const page of store.members('r2')) expect(page).toEqual([{ connectionId: 'b1', connectedAt: NOW }]);

    await store.remove('a1');
    expect((await collect(store.members('r1'))).flat()).toEqual(['a2']);
    expect(await itemsOf('a1')).toEqual([]);
    expect(await itemsOf('a2')).toHaveLength(2);
  });

  it('stores what $connect knows about the connection, in the attribute types the table expects', async () => {
    await store.add(record('m1', { sourceIp: '198.51.100.7' }), ['meta']);

    const items = await itemsOf('m1');
    const meta = items.find((item) => item.pk?.S === 'CONN#m1');
    const membership = items.find((item) => item.pk?.S === 'CHAN#meta');

    expect(meta).toEqual({
      pk: { S: 'CONN#m1' },
      sk: { S: 'META' },
      connectionId: { S: 'm1' },
      sourceIp: { S: '198.51.100.7' },
      connectedAt: { N: String(NOW) },
      expiresAt: { N: String(LIVE) },
      channels: { SS: ['meta'] },
    });
    expect(membership).toEqual({
      pk: { S: 'CHAN#meta' },
      sk: { S: 'CONN#m1' },
      connectionId: { S: 'm1' },
      connectedAt: { N: String(NOW) },
      expiresAt: { N: String(LIVE) },
    });
  });

  it("stores a user's id and info on the record and on every membership (presence reads them)", async () => {
    const info = { name: 'Alice', big: 2 ** 60, '': 'empty key' };
    await store.add(record('alice1', { userId: 'alice', info }), ['default', 'user:alice']);
    await store.subscribe(subscriber('alice1', { userId: 'alice', info }), 'chat:lobby', 100);

    const items = await itemsOf('alice1');

    expect(items).toHaveLength(4);
    for (const item of items) {
      expect(item.userId).toEqual({ S: 'alice' });
      // JSON text: round-trips what a map attribute would not (unsafe integers, empty keys).
      expect(JSON.parse(item.info!.S!)).toEqual(info);
    }
    const meta = items.find((item) => item.sk?.S === 'META')!;
    expect(new Set(meta.channels!.SS)).toEqual(new Set(['default', 'user:alice', 'chat:lobby']));
  });

  it('subscribe lists the channel on the record and adds a membership; repeating it is fine', async () => {
    await store.add(record('s1'), ['default']);

    expect(await store.subscribe(subscriber('s1'), 'chat:a', 100)).toBe('added');
    expect(await store.subscribe(subscriber('s1'), 'chat:a', 100)).toBe('existing');

    expect((await collect(store.members('chat:a'))).flat()).toEqual(['s1']);
    const meta = (await itemsOf('s1')).find((item) => item.sk?.S === 'META')!;
    expect(new Set(meta.channels!.SS)).toEqual(new Set(['default', 'chat:a']));
    expect(await itemsOf('s1')).toHaveLength(3);
  });

  it('subscribe refuses a channel beyond the limit, yet a repeated subscribe at the limit is fine', async () => {
    await store.add(record('l1'), ['default', 'user:l1']);

    expect(await store.subscribe(subscriber('l1'), 'c1', 3)).toBe('added');
    expect(await store.subscribe(subscriber('l1'), 'c2', 3)).toBe('limit');
    expect(await store.subscribe(subscriber('l1'), 'c1', 3)).toBe('existing');

    expect((await collect(store.members('c2'))).flat()).toEqual([]);
    expect(await itemsOf('l1')).toHaveLength(4);
  });

  it('holds the limit when many subscribes of one connection race', async () => {
    await store.add(record('race'), ['default']);

    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.subscribe(subscriber('race'), `race${i}`, 5)),
    );

    expect(results.filter((result) => result === 'added')).toHaveLength(4);
    expect(results.filter((result) => result === 'limit')).toHaveLength(16);
    const meta = (await itemsOf('race')).find((item) => item.sk?.S === 'META')!;
    expect(meta.channels!.SS).toHaveLength(5);
    // Exactly the listed channels have memberships.
    const memberships = (await itemsOf('race')).filter((item) => item.sk?.S !== 'META');
    expect(new Set(memberships.map((item) => item.pk!.S!.slice('CHAN#'.length)))).toEqual(new Set(meta.channels!.SS));
  });

  it('subscribe for a connection without a record answers gone and writes nothing', async () => {
    expect(await store.subscribe(subscriber('ghost'), 'chat:a', 100)).toBe('gone');

    expect(await itemsOf('ghost')).toEqual([]);
    const { Item } = await client.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'CONN#ghost' }, sk: { S: 'META' } } }),
    );
    expect(Item).toBeUndefined();
  });

  it('unsubscribe removes the membership and the listing; true only when there was a membership', async () => {
    await store.add(record('x1'), ['default']);
    await store.subscribe(subscriber('x1'), 'chat:b', 100);

    expect(await store.unsubscribe('x1', 'chat:b')).toEqual({ connectionId: 'x1', userId: null, info: null });
    expect(await store.unsubscribe('x1', 'chat:b')).toBeUndefined();
    expect(await store.unsubscribe('x1', 'never-subscribed')).toBeUndefined();

    expect((await collect(store.members('chat:b'))).flat()).toEqual([]);
    const meta = (await itemsOf('x1')).find((item) => item.sk?.S === 'META')!;
    expect(meta.channels).toEqual({ SS: ['default'] });
  });

  it('unsubscribe of an unknown connection answers false and does not create a record', async () => {
    expect(await store.unsubscribe('nobody', 'chat:b')).toBeUndefined();

    const { Item } = await client.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'CONN#nobody' }, sk: { S: 'META' } } }),
    );
    expect(Item).toBeUndefined();
  });

  it('a connection that left every channel can subscribe again (the emptied set is gone from the item)', async () => {
    await store.add(record('e1'), ['default']);
    await store.unsubscribe('e1', 'default');
    const meta = (await itemsOf('e1')).find((item) => item.sk?.S === 'META')!;
    expect(meta.channels).toBeUndefined();

    expect(await store.subscribe(subscriber('e1'), 'chat:c', 1)).toBe('added');
    expect(await store.subscribe(subscriber('e1'), 'chat:d', 1)).toBe('limit');
  });

  it('remove deletes every membership the connection subscribed to, and nothing of others', async () => {
    await store.add(record('d1'), ['default']);
    await store.add(record('d2'), ['default']);
    for (const channel of ['chat:x', 'chat:y']) {
      await store.subscribe(subscriber('d1'), channel, 100);
      await store.subscribe(subscriber('d2'), channel, 100);
    }

    await store.remove('d1');

    expect(await itemsOf('d1')).toEqual([]);
    for (const channel of ['chat:x', 'chat:y']) expect((await collect(store.members(channel))).flat()).toEqual(['d2']);
  });

  it('ignores an expired membership added by subscribe', async () => {
    const stale = NOW / 1000 - 1;
    await store.add(record('t1', { expiresAt: stale }), ['default']);
    await store.add(record('t2'), ['default']);
    await store.subscribe(subscriber('t1', { expiresAt: stale }), 'chat:ttl', 100);
    await store.subscribe(subscriber('t2'), 'chat:ttl', 100);

    expect((await collect(store.members('chat:ttl'))).flat()).toEqual(['t2']);
  });

  it('ignores expired items that TTL has not deleted yet', async () => {
    await store.add(record('old', { connectedAt: NOW - 1e7, expiresAt: NOW / 1000 - 1 }), ['ttl']);
    await store.add(record('new'), ['ttl']);

    expect((await collect(store.members('ttl'))).flat()).toEqual(['new']);
  });

  it('pages through channels larger than one DynamoDB page (1 MB) and yields every member once', async () => {
    // Pad membership items so a handful of pages is reached with few writes.
    const padding = 'x'.repeat(300_000);
    for (let i = 0; i < 8; i++) {
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: {
            pk: { S: 'CHAN#big' },
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

  it(`yields a large channel in pages of at most ${MEMBERS_PAGE_SIZE} members, each member once`, async () => {
    const count = MEMBERS_PAGE_SIZE * 2 + 10;
    await Promise.all(Array.from({ length: count }, (_, i) => store.add(record(`m${i}`), ['crowd'])));

    const pages = await collect(store.members('crowd'));

    expect(pages.map((page) => page.length)).toEqual([MEMBERS_PAGE_SIZE, MEMBERS_PAGE_SIZE, 10]);
    expect(new Set(pages.flat()).size).toBe(count);
  });

  it("presence lists a channel's live members with who they are: anonymous ones with nulls, expired ones not", async () => {
    const info = { name: 'Alice', big: 2 ** 60 };
    await store.add(record('pa'), ['default']);
    await store.add(record('pb'), ['default']);
    await store.add(record('pc', { expiresAt: NOW / 1000 - 1 }), ['default']);
    await store.subscribe(subscriber('pa', { userId: 'alice', info }), 'chat:who', 100);
    await store.subscribe(subscriber('pb'), 'chat:who', 100);
    await store.subscribe(subscriber('pc', { userId: 'carol', expiresAt: NOW / 1000 - 1 }), 'chat:who', 100);

    const members = await store.presence('chat:who');

    expect(members.sort((a, b) => a.connectionId.localeCompare(b.connectionId))).toEqual([
      { connectionId: 'pa', userId: 'alice', info },
      { connectionId: 'pb', userId: null, info: null },
    ]);
    expect(await store.presence('chat:nobody')).toEqual([]);
  });

  it('presence reads every page of a channel larger than one DynamoDB page (1 MB)', async () => {
    const padding = 'x'.repeat(300_000);
    for (let i = 0; i < 8; i++) {
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: {
            pk: { S: 'CHAN#crowded' },
            sk: { S: `CONN#q${i}` },
            connectionId: { S: `q${i}` },
            userId: { S: `user${i}` },
            expiresAt: { N: String(LIVE) },
            pad: { S: padding },
          },
        }),
      );
    }

    const members = await store.presence('crowded');

    expect(members.map((member) => member.userId).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `user${i}`));
  });

  it('members and presence read strongly consistent: a subscribe that returned is seen by the next fan-out', async () => {
    const queries: unknown[] = [];
    const recordingStore = faulty((next, context) => async (args) => {
      if (context.commandName === 'QueryCommand') queries.push(args.input);
      return next(args);
    });
    await store.add(record('cr'), ['consistent']);

    await collect(recordingStore.members('consistent'));
    await recordingStore.presence('consistent');

    expect(queries).toEqual([
      expect.objectContaining({ ConsistentRead: true, ProjectionExpression: 'connectionId, connectedAt' }),
      expect.objectContaining({ ConsistentRead: true, ProjectionExpression: 'connectionId, userId, info' }),
    ]);
  });

  it('a read-ahead page that fails while the consumer delivers reaches the consumer, not the process', async () => {
    await Promise.all(Array.from({ length: MEMBERS_PAGE_SIZE + 1 }, (_, i) => store.add(record(`f${i}`), ['flaky'])));
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

    await throttledStore.add(record('u1'), ['unproc']);

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

    const adding = saturatedStore.add(record('u2'), ['unproc']).catch((error: unknown) => error);
    await vi.runAllTimersAsync();
    const error = await adding;

    expect(error).toBeInstanceOf(UnprocessedWritesError);
    expect(error).toBeInstanceOf(RelayError);
    expect(error).toMatchObject({ name: 'UnprocessedWritesError', tableName, unprocessed: 2 });
    expect(batches).toBe(9);
  });

  it('remove answers who the connection was and what it was subscribed to', async () => {
    const info = { name: 'Dana', big: 2 ** 60 };
    await store.add(record('r1', { userId: 'dana', info }), ['default']);
    await store.subscribe(subscriber('r1', { userId: 'dana', info }), 'chat:r', 100);

    const removed = await store.remove('r1');

    expect(removed).toEqual({ userId: 'dana', info, channels: expect.arrayContaining(['default', 'chat:r']) });
    expect(removed?.channels).toHaveLength(2);
  });

  it('remove answers null userId and info for an anonymous connection, and no channels when it held none', async () => {
    await store.add(record('anon'), []);

    expect(await store.remove('anon')).toEqual({ userId: null, info: null, channels: [] });
  });

  it('of two removes racing on one connection, exactly one gets the record (leave events go out once)', async () => {
    await store.add(record('twice', { userId: 'tw' }), ['default', 'chat:twice']);

    const results = await Promise.all([store.remove('twice'), store.remove('twice')]);

    expect(results.filter((result) => result !== undefined)).toEqual([
      { userId: 'tw', info: null, channels: expect.arrayContaining(['default', 'chat:twice']) },
    ]);
    expect(await itemsOf('twice')).toEqual([]);
  });

  it('removing an unknown connection is not an error and finds nothing', async () => {
    await expect(store.remove('never-seen')).resolves.toBeUndefined();
  });

  it('a membership that outlived its record is not found by remove, and dropped by dropMembership, which says who it was', async () => {
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          pk: { S: 'CHAN#orphans' },
          sk: { S: 'CONN#orphan' },
          connectionId: { S: 'orphan' },
          connectedAt: { N: '0' },
          expiresAt: { N: String(LIVE) },
        },
      }),
    );

    expect(await store.remove('orphan')).toBeUndefined();
    expect((await collect(store.members('orphans'))).flat()).toHaveLength(1);
    expect(await store.dropMembership('orphan', 'orphans')).toEqual({
      connectionId: 'orphan',
      userId: null,
      info: null,
    });
    expect(await store.dropMembership('orphan', 'orphans')).toBeUndefined();

    expect((await collect(store.members('orphans'))).flat()).toEqual([]);
  });

  it('removes a connection with more than 25 items (several BatchWrite calls), from its record alone', async () => {
    await store.add(record('many'), ['default']);
    for (let i = 0; i < 30; i++) expect(await store.subscribe(subscriber('many'), `room${i}`, 100)).toBe('added');

    expect(await itemsOf('many')).toHaveLength(32);

    await store.remove('many');

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
    await store.add(record(connectionId), ['endpoints']);
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
