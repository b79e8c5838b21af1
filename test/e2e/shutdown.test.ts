import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../src/local/dynamodb.js';
import { startTestServer } from '../helpers/dev-server.js';
import { connectClient } from '../helpers/ws-client.js';

describe('stopping the dev server', () => {
  let dynamo: EmbeddedDynamo;
  let client: DynamoDBClient;
  beforeAll(async () => {
    // A DynamoDB that outlives the dev server, as DYNAMODB_ENDPOINT or --dynamodb-path would.
    dynamo = await startEmbeddedDynamo();
    client = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: dynamo.endpoint,
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    });
  });
  afterAll(async () => {
    client.destroy();
    await dynamo.close();
  });

  it('closes every connection with 1001 and runs their $disconnect before stopping, leaving no records', async () => {
    const server = await startTestServer({ env: { ...process.env, DYNAMODB_ENDPOINT: dynamo.endpoint }, http: false });
    const table = server.service.functions.connect!.environment.CONNECTIONS_TABLE!;
    const clients = await Promise.all([1, 2, 3].map(() => connectClient(server.wsUrl)));
    const members = async () =>
      (
        await client.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: 'pk = :r',
            ExpressionAttributeValues: { ':r': { S: 'CHAN#default' } },
          }),
        )
      ).Items ?? [];
    expect(await members()).toHaveLength(3);

    await server.close();

    expect((await Promise.all(clients.map((c) => c.closed))).map((c) => c.code)).toEqual([1001, 1001, 1001]);
    expect(await members()).toEqual([]);
  });
});
