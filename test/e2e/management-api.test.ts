import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevServer } from '../../src/local/dev-server.js';
import { startTestServer } from '../helpers/dev-server.js';
import { connectClient, type TestClient } from '../helpers/ws-client.js';

describe('@connections Management API through the real SDK client', () => {
  let server: DevServer;
  let sdk: ApiGatewayManagementApiClient;
  let stageSdk: ApiGatewayManagementApiClient;

  /** Connects and learns the connection id from the server's own broadcast. */
  async function connectWithId(): Promise<{ client: TestClient; id: string }> {
    const client = await connectClient(server.wsUrl, { headers: { 'User-Agent': 'conformance/1.0' } });
    client.send({ action: 'sendmessage', data: 'id?' });
    const { from } = await client.next();
    return { client, id: from };
  }

  beforeAll(async () => {
    server = await startTestServer();
    const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
    sdk = new ApiGatewayManagementApiClient({ region: 'us-east-1', endpoint: server.managementUrl, credentials });
    stageSdk = new ApiGatewayManagementApiClient({ region: 'us-east-1', endpoint: `${server.managementUrl}/local`, credentials });
  });
  afterAll(async () => {
    sdk.destroy();
    stageSdk.destroy();
    await server.close();
  });

  it('PostToConnection delivers a text frame, at the root and under the stage', async () => {
    const { client, id } = await connectWithId();

    await sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: '{"hello":1}' }));
    await stageSdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: new TextEncoder().encode('plain text') }));

    expect(await client.next()).toEqual({ hello: 1 });
    expect(await client.next()).toBe('plain text');
    await client.close();
  });

  it('GetConnection returns connectedAt, identity and a lastActiveAt that moves with activity', async () => {
    const { client, id } = await connectWithId();

    const first = await sdk.send(new GetConnectionCommand({ ConnectionId: id }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    client.send('ping');
    await client.next();
    const second = await sdk.send(new GetConnectionCommand({ ConnectionId: id }));

    expect(first.ConnectedAt).toBeInstanceOf(Date);
    expect(Date.now() - first.ConnectedAt!.getTime()).toBeLessThan(10_000);
    expect(first.Identity).toEqual({ SourceIp: '127.0.0.1', UserAgent: 'conformance/1.0' });
    expect(second.LastActiveAt!.getTime()).toBeGreaterThan(first.LastActiveAt!.getTime());
    await client.close();
  });

  it('DeleteConnection closes the socket; afterwards every call is 410 GoneException', async () => {
    const { client, id } = await connectWithId();

    const deleted = await sdk.send(new DeleteConnectionCommand({ ConnectionId: id }));
    const { code } = await client.closed;

    expect(deleted.$metadata.httpStatusCode).toBe(204);
    expect(code).toBe(1000);
    for (const command of [
      new PostToConnectionCommand({ ConnectionId: id, Data: 'x' }),
      new GetConnectionCommand({ ConnectionId: id }),
      new DeleteConnectionCommand({ ConnectionId: id }),
    ]) {
      const error = await sdk.send(command as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GoneException);
      expect((error as GoneException).$metadata.httpStatusCode).toBe(410);
    }
  });

  it('an id that never existed is 410 GoneException', async () => {
    const error = await sdk.send(new PostToConnectionCommand({ ConnectionId: 'nope0000000000A=', Data: 'x' })).catch((e: unknown) => e);
    expect((error as Error).name).toBe('GoneException');
  });

  it('data over 128 KB is 413 PayloadTooLargeException and the connection stays open', async () => {
    const { client, id } = await connectWithId();

    const error = await sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'x'.repeat(128 * 1024 + 1) })).catch((e: unknown) => e);
    await sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'after' }));

    expect(error).toBeInstanceOf(PayloadTooLargeException);
    expect(await client.next()).toBe('after');
    await client.close();
  });
});
