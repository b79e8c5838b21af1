import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevServer } from '../../src/local/dev-server.js';
import { httpApiEvent, httpApiPost, httpApiRequest, lambdaContext } from '../fixtures/http-api-event.js';
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
      // Request logs would fill the test output; the logger itself is tested in test/integration/http-api.test.ts.
      LOG_LEVEL: 'warn',
    });
    ({ handler } = (await import('../../src/aws/http-lambda.js')) as unknown as { handler: Handler });
    client = await connectClient(server.wsUrl);
  });
  afterAll(async () => {
    await client.close();
    await server.close();
  });

  it('GET /health', async () => {
    const result = await handler(httpApiEvent(), lambdaContext());
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({ status: 'ok' });
  });

  it('POST /messages reaches the open WebSocket connection through DynamoDB and @connections', async () => {
    const result = await handler(httpApiPost('/messages', JSON.stringify({ data: { text: 'from lambda' } })), {});

    expect(result.statusCode).toBe(202);
    expect(JSON.parse(result.body)).toEqual({ delivered: 1, gone: 0, failed: 0 });
    expect(await client.next()).toMatchObject({ type: 'message', data: { text: 'from lambda' }, from: null });
  });

  it.each([
    ['without data', httpApiPost('/messages', '{}'), 400, 'missing_data'],
    ['with invalid JSON', httpApiPost('/messages', '{"data":'), 400, 'invalid_json'],
    [
      'with a form body',
      httpApiRequest('POST', '/messages', 'data=1', { 'content-type': 'application/x-www-form-urlencoded' }),
      415,
      'unsupported_media_type',
    ],
    ['to an unknown path', httpApiRequest('GET', '/nothing-here'), 404, 'not_found'],
    ['with the wrong method', httpApiRequest('GET', '/messages'), 405, 'method_not_allowed'],
  ])('a request %s is a %i {"error": "%s", "message": ...}', async (_name, event, statusCode, error) => {
    const result = await handler(event, lambdaContext());
    expect(result.statusCode).toBe(statusCode);
    expect(JSON.parse(result.body)).toEqual({ error, message: expect.any(String) });
  });

  it('answers with the Lambda request id, the id its log lines carry', async () => {
    const result = await handler(httpApiEvent(), lambdaContext('0f1e2d3c-lambda-request'));
    expect(result.headers['x-request-id']).toBe('0f1e2d3c-lambda-request');
  });
});
