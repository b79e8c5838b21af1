import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDynamoClient } from '../../src/aws/dynamo-client.js';
import { createDynamoStore } from '../../src/aws/dynamo-store.js';
import type { ConnectionStore } from '../../src/core/index.js';
import type { EmbeddedDynamo } from '../../src/local/dynamodb.js';
import { startTestDynamo } from '../helpers/dynamo.js';

const NOW = 1_700_000_000_000;
const NOW_SECONDS = NOW / 1000;
/** How long a key is kept, and how long an unsettled claim holds it, as the relay might choose. */
const KEEP_SECONDS = 300;
const STALE_SECONDS = 30;
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

describe("idempotency keys (the store's claims, dynalite)", () => {
  let dynamo: EmbeddedDynamo;
  let client: DynamoDBClient;
  let tableName: string;
  let store: ConnectionStore;
  let now = NOW;
  const clock = { now: () => now };
  /** The times a publish claims with, on the clock as it is now. */
  const times = () => {
    const nowSeconds = Math.floor(now / 1000);
    return { expiresAt: nowSeconds + KEEP_SECONDS, staleBefore: nowSeconds - STALE_SECONDS };
  };
  const claimItem = (channel: string, key: string) =>
    client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { pk: { S: `IDEM#${channel}#${key}` }, sk: { S: 'META' } },
        ConsistentRead: true,
      }),
    );

  beforeAll(async () => {
    ({ dynamo, client, tableName } = await startTestDynamo());
    const documents = createDynamoClient({ region: 'us-east-1', dynamodbEndpoint: dynamo.endpoint }, LOCAL_CREDENTIALS);
    store = createDynamoStore({ client: documents, tableName, clock });
  });
  beforeEach(() => {
    now = NOW;
  });
  afterAll(async () => {
    client.destroy();
    await dynamo.close();
  });

  it('a claim is one item: IDEM#<channel>#<key>, the message id, when it was claimed, a TTL', async () => {
    expect(await store.claim('chat:layout', 'k1', 'm1', times())).toBe('claimed');

    const { Item } = await claimItem('chat:layout', 'k1');
    expect(Item).toEqual({
      pk: { S: 'IDEM#chat:layout#k1' },
      sk: { S: 'META' },
      messageId: { S: 'm1' },
      claimedAt: { N: String(NOW_SECONDS) },
      expiresAt: { N: String(NOW_SECONDS + KEEP_SECONDS) },
    });
  });

  it('of two concurrent claims of one key exactly one is claimed; the other gets its record', async () => {
    const [first, second] = await Promise.all([
      store.claim('chat:race', 'k', 'm1', times()),
      store.claim('chat:race', 'k', 'm2', times()),
    ]);

    const results = [first, second];
    expect(results.filter((result) => result === 'claimed')).toHaveLength(1);
    const winner = first === 'claimed' ? 'm1' : 'm2';
    expect(results).toContainEqual({ messageId: winner });
    expect(await store.lookup('chat:race', 'k')).toEqual({ messageId: winner });
  });

  it('after settle, a repeat gets the offset the first publish took', async () => {
    await store.claim('chat:settled', 'k', 'm1', times());

    await store.settle('chat:settled', 'k', 'm1', 7);

    expect(await store.claim('chat:settled', 'k', 'm2', times())).toEqual({ messageId: 'm1', offset: 7 });
    expect(await store.lookup('chat:settled', 'k')).toEqual({ messageId: 'm1', offset: 7 });
  });

  it('an expired claim (TTL deletes late) counts as none: lookup misses it, a claim takes it', async () => {
    await store.claim('chat:expired', 'k', 'm1', times());
    await store.settle('chat:expired', 'k', 'm1', 3);

    now = NOW + KEEP_SECONDS * 1000;

    expect(await store.lookup('chat:expired', 'k')).toBeUndefined();
    expect(await store.claim('chat:expired', 'k', 'm2', times())).toBe('claimed');
    expect(await store.lookup('chat:expired', 'k')).toEqual({ messageId: 'm2' });
  });

  it('an unsettled claim older than staleBefore can be claimed again; a fresher one cannot', async () => {
    await store.claim('chat:stale', 'k', 'm1', times());

    now = NOW + STALE_SECONDS * 1000;
    expect(await store.claim('chat:stale', 'k', 'm2', times())).toEqual({ messageId: 'm1' });

    now = NOW + (STALE_SECONDS + 1) * 1000;
    expect(await store.claim('chat:stale', 'k', 'm3', times())).toBe('claimed');
    expect(await store.lookup('chat:stale', 'k')).toEqual({ messageId: 'm3' });
  });

  it('a stalled publish whose claim was taken over can neither settle nor release the new claim', async () => {
    await store.claim('chat:taken', 'k', 'm1', times());
    now = NOW + (STALE_SECONDS + 1) * 1000;
    await store.claim('chat:taken', 'k', 'm2', times());

    await store.settle('chat:taken', 'k', 'm1', 9);
    await store.release('chat:taken', 'k', 'm1');

    expect(await store.lookup('chat:taken', 'k')).toEqual({ messageId: 'm2' });
    await store.settle('chat:taken', 'k', 'm2', 10);
    expect(await store.lookup('chat:taken', 'k')).toEqual({ messageId: 'm2', offset: 10 });
  });

  it('a settled claim is never stale: it holds the key until it expires', async () => {
    await store.claim('chat:kept', 'k', 'm1', times());
    await store.settle('chat:kept', 'k', 'm1', 1);

    now = NOW + (KEEP_SECONDS - 1) * 1000;

    expect(await store.claim('chat:kept', 'k', 'm2', times())).toEqual({ messageId: 'm1', offset: 1 });
  });

  it('release drops an unsettled claim, so a retry can claim at once', async () => {
    await store.claim('chat:release', 'k', 'm1', times());

    await store.release('chat:release', 'k', 'm1');

    expect(await store.lookup('chat:release', 'k')).toBeUndefined();
    expect(await store.claim('chat:release', 'k', 'm2', times())).toBe('claimed');
  });

  it('release keeps a settled claim: its publication is in the stream', async () => {
    await store.claim('chat:no-release', 'k', 'm1', times());
    await store.settle('chat:no-release', 'k', 'm1', 5);

    await store.release('chat:no-release', 'k', 'm1');

    expect(await store.lookup('chat:no-release', 'k')).toEqual({ messageId: 'm1', offset: 5 });
  });

  it('one key on two channels is two independent claims; a key may hold any character', async () => {
    const key = 'order#42 ünï/cødé';

    expect(await store.claim('chat:one', key, 'm1', times())).toBe('claimed');
    expect(await store.claim('chat:two', key, 'm2', times())).toBe('claimed');

    expect(await store.lookup('chat:one', key)).toEqual({ messageId: 'm1' });
    expect(await store.lookup('chat:two', key)).toEqual({ messageId: 'm2' });
  });

  it('looking up, settling or releasing an unknown key finds nothing and creates nothing', async () => {
    expect(await store.lookup('chat:unknown', 'k')).toBeUndefined();

    await store.settle('chat:unknown', 'k', 'm1', 1);
    await store.release('chat:unknown', 'k', 'm1');

    expect((await claimItem('chat:unknown', 'k')).Item).toBeUndefined();
  });
});
