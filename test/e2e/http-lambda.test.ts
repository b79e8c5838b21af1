import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevServer } from '../../src/local/dev-server.js';
import { httpApiEvent, httpApiPost } from '../fixtures/http-api-event.js';
import { startTestServer } from '../helpers/dev-server.js';
import { connectClient, type TestClient } from '../helpers/ws-client.js';

type LambdaResult = { statusCode: number; body: string; headers: Record<string, string> };
type Handler = (event: unknown, context: unknown) => Promise<LambdaResult>;

describe('HTTP API through the Lambda wrapper (@fastify/aws-lambda) with API Gateway HTTP events', () => {
  let server: DevServer;
  let handler: Handler;
  let client: TestClient;

  beforeAll(async () => {
    server = await startTestServer({ http: false });
    // The environment a deployed HTTP function gets, pointed at the local stand-ins.
    Object.assign(process.env, {
      ...server.service.functions.http!.environment,
      AWS_ENDPOINT_URL_DYNAMODB: server.dynamodbEndpoint,
      MANAGEMENT_API_URL: server.managementUrl,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    ({ handler } = (await import('../../src/aws/http-lambda.js')) as unknown as { handler: Handler });
    client = await connectClient(server.wsUrl);
  });
  afterAll(async () => {
    await client.close();
    await server.close();
  });

  it('GET /health', async () => {
    const result = await handler(httpApiEvent(), {});
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({ status: 'ok' });
  });

  it('POST /messages reaches the open WebSocket connection through DynamoDB and @connections', async () => {
    const result = await handler(httpApiPost('/messages', JSON.stringify({ data: { text: 'from lambda' } })), {});

    expect(result.statusCode).toBe(202);
    expect(JSON.parse(result.body)).toEqual({ delivered: 1, gone: 0, failed: 0 });
    expect(await client.next()).toMatchObject({ type: 'message', data: { text: 'from lambda' }, from: null });
  });

  it('POST /messages without data is a 400', async () => {
    const result = await handler(httpApiPost('/messages', '{}'), {});
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body).message).toMatch(/data/);
  });
});
