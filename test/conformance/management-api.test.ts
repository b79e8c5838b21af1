import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  ForbiddenException,
  GetConnectionCommand,
  GoneException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestClient } from '../helpers/ws-client.js';
import { echo, openProbe, startTarget, type Target } from './target.js';

/** Local endpoints accept any credentials; a deployed stage uses the SDK's default chain. */
const credentials = process.env.WS_URL ? undefined : { accessKeyId: 'local', secretAccessKey: 'local' };

describe('conformance: @connections Management API through the real SDK client', () => {
  let target: Target;
  let sdk: ApiGatewayManagementApiClient;

  async function connectWithId(): Promise<{ client: TestClient; id: string }> {
    const client = await openProbe(target, { headers: { 'User-Agent': 'conformance/1.0' } });
    return { client, id: (await echo(client)).event.requestContext.connectionId };
  }

  const errorOf = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: unknown) => error as Error & { $metadata: { httpStatusCode: number } },
    );

  beforeAll(async () => {
    target = await startTarget('probe');
    sdk = new ApiGatewayManagementApiClient({ region: 'us-east-1', endpoint: target.managementUrl, credentials });
  });
  afterAll(async () => {
    sdk?.destroy();
    await target?.close();
  });

  it('PostToConnection (200) delivers the data as a text frame', async () => {
    const { client, id } = await connectWithId();

    const posted = await sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: '{"hello":1}' }));
    await sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: new TextEncoder().encode('plain text') }));

    expect(posted.$metadata.httpStatusCode).toBe(200);
    expect(await client.next()).toEqual({ hello: 1 });
    expect(await client.next()).toBe('plain text');
    await client.close();
  });

  it('GetConnection (200): connectedAt, identity, and lastActiveAt that moves with activity', async () => {
    const { client, id } = await connectWithId();

    const first = await sdk.send(new GetConnectionCommand({ ConnectionId: id }));
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await echo(client);
    const second = await sdk.send(new GetConnectionCommand({ ConnectionId: id }));

    expect(first.ConnectedAt).toBeInstanceOf(Date);
    expect(Math.abs(Date.now() - first.ConnectedAt!.getTime())).toBeLessThan(60_000);
    expect(first.Identity).toMatchObject({ UserAgent: 'conformance/1.0' });
    expect(typeof first.Identity!.SourceIp).toBe('string');
    expect(second.LastActiveAt!.getTime()).toBeGreaterThan(first.LastActiveAt!.getTime());
    await client.close();
  });

  it('DeleteConnection (204) closes the socket; afterwards every command is 410 GoneException', async () => {
    const { client, id } = await connectWithId();

    const deleted = await sdk.send(new DeleteConnectionCommand({ ConnectionId: id }));
    await client.closed;

    expect(deleted.$metadata.httpStatusCode).toBe(204);
    for (const command of [
      new PostToConnectionCommand({ ConnectionId: id, Data: 'x' }),
      new GetConnectionCommand({ ConnectionId: id }),
      new DeleteConnectionCommand({ ConnectionId: id }),
    ]) {
      const error = await errorOf(sdk.send(command as never));
      expect(error).toBeInstanceOf(GoneException);
      expect(error!.name).toBe('GoneException');
      expect(error!.$metadata.httpStatusCode).toBe(410);
    }
  });

  it('a connection closed by its client is 410 GoneException', async () => {
    const { client, id } = await connectWithId();
    await client.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await errorOf(sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'x' }))))?.name).toBe(
      'GoneException',
    );
  });

  it('data over 128 KB is 413 PayloadTooLargeException and the connection stays open', async () => {
    const { client, id } = await connectWithId();

    const error = await errorOf(
      sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'x'.repeat(128 * 1024 + 1) })),
    );
    await sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'after' }));

    const huge = await errorOf(
      sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'x'.repeat(300 * 1024) })),
    );

    expect(error).toBeInstanceOf(PayloadTooLargeException);
    expect(error!.$metadata.httpStatusCode).toBe(413);
    expect(huge?.name).toBe('PayloadTooLargeException');
    expect(await client.next()).toBe('after');
    await client.close();
  });

  it("another stage's path is 403 ForbiddenException for Post-, Get- and DeleteConnection", async () => {
    const { client, id } = await connectWithId();
    const wrongStage = target.managementUrl.replace(/\/[^/]+$/, '/no-such-stage');
    const other = new ApiGatewayManagementApiClient({ region: 'us-east-1', endpoint: wrongStage, credentials });

    const errors = [
      await errorOf(other.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'x' }))),
      await errorOf(other.send(new GetConnectionCommand({ ConnectionId: id }))),
      await errorOf(other.send(new DeleteConnectionCommand({ ConnectionId: id }))),
    ];
    other.destroy();

    for (const error of errors) {
      expect(error).toBeInstanceOf(ForbiddenException);
      expect(error!.$metadata.httpStatusCode).toBe(403);
    }
    // Nothing reached the connection: it is still open and got no frame.
    expect(await echo(client)).toMatchObject({ event: { requestContext: { connectionId: id } } });
    await client.close();
  });

  it('a query string is ignored by all three commands, as by the rest of AWS', async () => {
    const { client, id } = await connectWithId();
    const withQuery = new ApiGatewayManagementApiClient({
      region: 'us-east-1',
      endpoint: target.managementUrl,
      credentials,
    });
    // At the build step, so the query is part of the signed request.
    withQuery.middlewareStack.add(
      (next) => (args) => {
        const request = args.request as { query?: Record<string, string> };
        request.query = { ...request.query, probe: 'yes' };
        return next(args);
      },
      { step: 'build' },
    );

    const posted = await withQuery.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'queried' }));
    const frame = await client.next();
    const got = await withQuery.send(new GetConnectionCommand({ ConnectionId: id }));
    const deleted = await withQuery.send(new DeleteConnectionCommand({ ConnectionId: id }));
    await client.closed;
    withQuery.destroy();

    expect(posted.$metadata.httpStatusCode).toBe(200);
    expect(frame).toBe('queried');
    expect(got.Identity).toMatchObject({ UserAgent: 'conformance/1.0' });
    expect(deleted.$metadata.httpStatusCode).toBe(204);
  });

  it('a method @connections does not have is 403 with x-amzn-ErrorType ForbiddenException', async () => {
    const { client, id } = await connectWithId();
    const response = await fetch(`${target.managementUrl}/@connections/${encodeURIComponent(id)}`, {
      method: 'PUT',
      body: 'x',
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('x-amzn-errortype')).toMatch(/^ForbiddenException/);
    await client.close();
  });

  it('a path that is not @connections is 403 with x-amzn-ErrorType ForbiddenException', async () => {
    const response = await fetch(`${target.managementUrl}/@connection/abc`, { method: 'POST', body: 'x' });
    expect(response.status).toBe(403);
    expect(response.headers.get('x-amzn-errortype')).toMatch(/^ForbiddenException/);
  });
});
