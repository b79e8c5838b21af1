import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { WebSocketHandler } from '../../src/aws/handlers/invocation.js';
import type { WebSocketEvent } from '../../src/aws/websocket-event.js';
import { ALL_CAPABILITIES, type Identity, identityContext } from '../../src/core/index.js';
import type { EmbeddedDynamo } from '../../src/local/dynamodb.js';
import { websocketEvent } from '../fixtures/websocket-event.js';
import { startTestDynamo } from '../helpers/dynamo.js';

const alice: Identity = { userId: 'alice', info: { name: 'Alice' }, capabilities: ALL_CAPABILITIES };
const bob: Identity = { userId: 'bob', info: null, capabilities: { 'chat:*': ['subscribe'] } };

/**
 * The three WebSocket handlers as Lambda runs them (their own composition roots, settings from the
 * environment), against dynalite and a recording @connections endpoint: identity travels from the
 * authorizer context to the table and onto message frames.
 */
describe('the $connect, message and $disconnect handlers', () => {
  let dynamo: EmbeddedDynamo;
  let client: DynamoDBClient;
  let tableName: string;
  let managementApi: Server;
  /** Frames POSTed to @connections, per connection id. */
  const posted = new Map<string, unknown[]>();
  let connect: WebSocketHandler;
  let message: WebSocketHandler;
  let disconnect: WebSocketHandler;

  const event = (connectionId: string, routeKey: string, identity: Identity | null, body?: string): WebSocketEvent => {
    const base = websocketEvent();
    const eventType = routeKey === '$connect' ? 'CONNECT' : routeKey === '$disconnect' ? 'DISCONNECT' : 'MESSAGE';
    return {
      ...base,
      body,
      requestContext: {
        ...base.requestContext,
        routeKey,
        eventType,
        connectionId,
        connectedAt: Date.now() - 60_000,
        // API Gateway adds principalId to what the authorizer returned; no authorizer, no context.
        ...(identity && { authorizer: { ...identityContext(identity), principalId: identity.userId ?? 'anonymous' } }),
      },
    };
  };
  const send = (connectionId: string, identity: Identity | null, frame: unknown) =>
    message(event(connectionId, '$default', identity, JSON.stringify(frame)));
  const framesOf = (connectionId: string) => posted.get(connectionId) ?? [];
  const membersOf = async (channel: string) => {
    const { Items = [] } = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `CHAN#${channel}` } },
        ConsistentRead: true,
      }),
    );
    return Items.map((item) => item.connectionId?.S).sort();
  };

  beforeAll(async () => {
    ({ dynamo, client, tableName } = await startTestDynamo());
    managementApi = createServer((request, response) => {
      const id = decodeURIComponent(request.url!.replace('/@connections/', ''));
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        posted.set(id, [...framesOf(id), JSON.parse(Buffer.concat(chunks).toString())]);
        response.end();
      });
    });
    await new Promise<void>((resolve) => managementApi.listen(0, '127.0.0.1', resolve));
    const { port } = managementApi.address() as AddressInfo;
    vi.stubEnv('CONNECTIONS_TABLE', tableName);
    vi.stubEnv('DYNAMODB_ENDPOINT', dynamo.endpoint);
    vi.stubEnv('MANAGEMENT_API_URL', `http://127.0.0.1:${port}`);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'local');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
    vi.stubEnv('NAMESPACES', '{"chat":{"clientPublish":true}}');
    ({ handler: connect } = await import('../../src/aws/handlers/connect.js'));
    ({ handler: message } = await import('../../src/aws/handlers/message.js'));
    ({ handler: disconnect } = await import('../../src/aws/handlers/disconnect.js'));
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await new Promise((resolve) => managementApi.close(resolve));
    client.destroy();
    await dynamo.close();
  });

  it('carry identity from the authorizer context to memberships, capabilities and message frames', async () => {
    await connect(event('A', '$connect', alice));
    await connect(event('B', '$connect', bob));
    await connect(event('N', '$connect', null));

    expect(await membersOf('default')).toEqual(['A', 'B', 'N']);
    expect(await membersOf('user:alice')).toEqual(['A']);
    expect(await membersOf('user:bob')).toEqual(['B']);

    await send('A', alice, { action: 'subscribe', channel: 'chat:lobby', id: '1' });
    await send('B', bob, { action: 'subscribe', channel: 'chat:lobby', id: '1' });
    // Anonymous connections get ANONYMOUS_CAPABILITIES: the default channel only.
    await send('N', null, { action: 'subscribe', channel: 'chat:lobby', id: '1' });
    const subscribed = {
      type: 'subscribed',
      id: '1',
      channel: 'chat:lobby',
      position: { offset: 0, epoch: expect.any(String) },
    };
    expect(framesOf('A')).toEqual([subscribed]);
    expect(framesOf('B')).toEqual([subscribed]);
    // One stream, one epoch: whoever subscribes first creates it.
    const epoch = (framesOf('A')[0] as { position: { epoch: string } }).position.epoch;
    expect(framesOf('B')[0]).toMatchObject({ position: { epoch } });
    expect(framesOf('N')).toEqual([{ type: 'error', id: '1', code: 'forbidden', message: expect.any(String) }]);
    expect(await membersOf('chat:lobby')).toEqual(['A', 'B']);

    await send('A', alice, { action: 'publish', channel: 'chat:lobby', data: 'hi', id: '2' });
    const [ack, delivered] = framesOf('A').slice(1) as [{ messageId: string }, unknown];
    expect(ack).toEqual({ type: 'ack', id: '2', channel: 'chat:lobby', messageId: expect.any(String), offset: 1 });
    const frame = {
      type: 'message',
      channel: 'chat:lobby',
      id: ack.messageId,
      data: 'hi',
      from: 'A',
      user: { id: 'alice', info: { name: 'Alice' } },
      ts: expect.any(Number),
      offset: 1,
      epoch,
    };
    expect(delivered).toEqual(frame);
    expect(framesOf('B').at(-1)).toEqual(frame);
    expect(framesOf('N')).toHaveLength(1);

    // bob may only subscribe there.
    await send('B', bob, { action: 'publish', channel: 'chat:lobby', data: 'hey', id: '3' });
    expect(framesOf('B').at(-1)).toMatchObject({ type: 'error', id: '3', code: 'forbidden' });

    await send('N', null, { action: 'sendmessage', data: 'anyone?' });
    for (const id of ['A', 'B', 'N']) {
      expect(framesOf(id).at(-1)).toMatchObject({ type: 'message', channel: 'default', from: 'N', user: null });
    }

    await disconnect(event('A', '$disconnect', alice));
    for (const channel of ['default', 'user:alice', 'chat:lobby']) expect(await membersOf(channel)).not.toContain('A');
    expect(await membersOf('chat:lobby')).toEqual(['B']);
  });
});
