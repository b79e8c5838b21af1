import { type AttributeValue, DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevServer } from '../../src/local/dev-server.js';
import { startTestServer } from '../helpers/dev-server.js';
import { connectClient } from '../helpers/ws-client.js';

describe('emulator end to end: chat through the real handlers, DynamoDB and @connections', () => {
  let server: DevServer;
  let dynamo: DynamoDBClient;
  let tableName: string;

  beforeAll(async () => {
    server = await startTestServer();
    dynamo = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: server.dynamodbEndpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    tableName = server.service.functions.connect!.environment.CONNECTIONS_TABLE!;
  });
  afterAll(async () => {
    dynamo.destroy();
    await server.close();
  });

  const roomMembers = async (channel = 'default') => {
    const { Items } = await dynamo.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :room',
        ExpressionAttributeValues: { ':room': { S: `CHAN#${channel}` } },
      }),
    );
    return (Items ?? []).map((item) => item.connectionId!.S!);
  };

  it('two clients chat: each message reaches both, the sender included, with channel, sender, user, id and time', async () => {
    const alice = await connectClient(server.wsUrl);
    const bob = await connectClient(server.wsUrl);

    alice.send({ action: 'sendmessage', data: { text: 'hi bob' } });
    const atAlice = await alice.next();
    const atBob = await bob.next();
    bob.send({ action: 'sendmessage', data: 'hi alice' });
    const replyAtAlice = await alice.next();

    expect(atBob).toEqual(atAlice);
    // Anonymous (npm run dev allows it): the default channel, and no user behind the connection.
    expect(atBob).toMatchObject({ type: 'message', channel: 'default', data: { text: 'hi bob' }, user: null });
    expect(atBob.from).toMatch(/^[\w-]{15}=$/);
    expect(typeof atBob.id).toBe('string');
    expect(Math.abs(atBob.ts - Date.now())).toBeLessThan(10_000);
    expect(replyAtAlice).toMatchObject({ type: 'message', channel: 'default', data: 'hi alice', user: null });
    expect(replyAtAlice.from).not.toBe(atBob.from);
    expect(replyAtAlice.id).not.toBe(atBob.id);
    await Promise.all([alice.close(), bob.close()]);
  });

  it.each([
    ['non-JSON', 'hello?', 'invalid_json'],
    ['an unknown action', { action: 'dance', data: 1 }, 'unknown_action'],
    ['no action', { data: 1 }, 'missing_action'],
    ['no data', { action: 'sendmessage' }, 'missing_data'],
    ['a JSON array', [1, 2], 'not_an_object'],
  ])('%s gets an error frame for the sender only, and the chat goes on', async (_name, frame, code) => {
    const sender = await connectClient(server.wsUrl);
    const other = await connectClient(server.wsUrl);

    sender.send(frame);
    const error = await sender.next();
    sender.send({ action: 'sendmessage', data: 'still here' });

    expect(error).toEqual({ type: 'error', code, message: expect.any(String) });
    expect(await other.next()).toMatchObject({ type: 'message', data: 'still here' });
    expect(await sender.next()).toMatchObject({ type: 'message', data: 'still here' });
    await Promise.all([sender.close(), other.close()]);
  });

  it('$connect stores the connection and $disconnect deletes it', async () => {
    const client = await connectClient(server.wsUrl);
    client.send({ action: 'sendmessage', data: 'who am i' });
    const { from } = await client.next();
    expect(await roomMembers()).toContain(from);

    await client.close();

    await expect.poll(() => roomMembers()).not.toContain(from);
  });

  it('a connection that vanished without $disconnect is pruned from the table by the next broadcast', async () => {
    // What a lost $disconnect leaves behind: a live-looking record with no socket.
    const expiresAt = { N: String(Math.floor(Date.now() / 1000) + 3600) };
    // Connected a minute ago: past the grace in which a Gone answer may only mean $connect is still running.
    const connectedAt = { N: String(Date.now() - 60_000) };
    const items: Record<string, AttributeValue>[] = [
      {
        pk: { S: 'CONN#ghost0000000=' },
        sk: { S: 'META' },
        channels: { SS: ['default', 'chat:ghostroom'] },
        sourceIp: { S: '127.0.0.1' },
      },
      { pk: { S: 'CHAN#default' }, sk: { S: 'CONN#ghost0000000=' } },
      { pk: { S: 'CHAN#chat:ghostroom' }, sk: { S: 'CONN#ghost0000000=' } },
    ];
    for (const item of items) {
      await dynamo.send(
        new PutItemCommand({
          TableName: tableName,
          Item: { ...item, connectionId: { S: 'ghost0000000=' }, connectedAt, expiresAt },
        }),
      );
    }
    const client = await connectClient(server.wsUrl);
    expect(await roomMembers()).toContain('ghost0000000=');

    client.send({ action: 'sendmessage', data: 'anyone?' });
    await client.next();

    await expect.poll(() => roomMembers()).not.toContain('ghost0000000=');
    // The record lists its channels, so pruning removes every membership, not only the one that failed.
    await expect.poll(() => roomMembers('chat:ghostroom')).not.toContain('ghost0000000=');
    await client.close();
  });

  it('binary frames close the connection with 1003, as API Gateway does', async () => {
    const client = await connectClient(server.wsUrl);
    client.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await client.closed).code).toBe(1003);
  });

  it('a message over 128 KB closes the connection with 1009 (message too big)', async () => {
    const client = await connectClient(server.wsUrl);
    client.send({ action: 'sendmessage', data: 'x'.repeat(128 * 1024) });
    expect((await client.closed).code).toBe(1009);
  });

  it('a plain HTTP GET on the WebSocket URL is told to upgrade', async () => {
    const response = await fetch(server.wsUrl.replace('ws:', 'http:'));
    expect(response.status).toBe(426);
  });
});
