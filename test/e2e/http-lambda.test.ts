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
    const body = JSON.parse(result.body);
    expect(body).toEqual({
      messageId: expect.any(String),
      offset: expect.any(Number),
      delivered: 1,
      gone: 0,
      failed: 0,
    });
    expect(await client.next()).toMatchObject({
      type: 'message',
      channel: 'default',
      id: body.messageId,
      offset: body.offset,
      data: { text: 'from lambda' },
      from: null,
      user: null,
    });
  });

  it('POST /channels/{channel}/messages reaches the subscribers of that channel only', async () => {
    // A user: anonymous connections may use the default channel only.
    const member = await connectClient(`${server.wsUrl}/?token=${await server.devTokens!.sign({ user: 'member' })}`);
    member.send({ action: 'subscribe', channel: 'chat:lambda', id: 's1' });
    expect(await member.next()).toEqual({
      type: 'subscribed',
      id: 's1',
      channel: 'chat:lambda',
      position: { offset: expect.any(Number), epoch: expect.any(String) },
    });

    const result = await handler(httpApiPost('/channels/chat:lambda/messages', '{"data":"to the room"}'), {});

    expect(result.statusCode).toBe(202);
    expect(JSON.parse(result.body)).toMatchObject({ delivered: 1, gone: 0, failed: 0 });
    expect(await member.next()).toMatchObject({ type: 'message', channel: 'chat:lambda', data: 'to the room' });
    // The client on the default channel only got nothing.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(client.pending()).toEqual([]);
    await member.close();
  });

  it('DELETE /connections/{id} closes the connection through @connections; again, it is a 404', async () => {
    const doomed = await connectClient(server.wsUrl);
    doomed.send({ action: 'sendmessage', data: 'who am I' });
    const { from: connectionId } = await doomed.next();
    await client.next(); // the same message, broadcast to the default channel

    const result = await handler(httpApiRequest('DELETE', `/connections/${encodeURIComponent(connectionId)}`), {});

    expect(result.statusCode).toBe(204);
    expect(await doomed.closed).toMatchObject({ code: 1000 });
    const again = await handler(httpApiRequest('DELETE', `/connections/${encodeURIComponent(connectionId)}`), {});
    expect(again.statusCode).toBe(404);
  });

  it.each([
    ['without data', 400, 'missing_data', httpApiPost('/messages', '{}')],
    ['with invalid JSON', 400, 'invalid_json', httpApiPost('/messages', '{"data":')],
    [
      'with a form body',
      415,
      'unsupported_media_type',
      httpApiRequest('POST', '/messages', 'data=1', { 'content-type': 'application/x-www-form-urlencoded' }),
    ],
    ['to an unknown path', 404, 'not_found', httpApiRequest('GET', '/nothing-here')],
    ['with the wrong method', 405, 'method_not_allowed', httpApiRequest('GET', '/messages')],
    ['to an invalid channel', 400, 'invalid_channel', httpApiPost('/channels/no%20spaces/messages', '{"data":1}')],
    // The dev token route exists only under npm run dev; the Lambda entry point never registers it.
    ['for a dev token', 404, 'not_found', httpApiPost('/dev/token', '{"user":"alice"}')],
  ])('a request %s is a %i {"error": "%s", "message": ...}', async (_name, statusCode, error, event) => {
    const result = await handler(event, lambdaContext());
    expect(result.statusCode).toBe(statusCode);
    expect(JSON.parse(result.body)).toEqual({ error, message: expect.any(String) });
  });
});
