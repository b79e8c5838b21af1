import { createHash } from 'node:crypto';
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createManagementSender } from '../../src/aws/management-sender.js';
import { createSignedHttpSender } from '../../src/aws/signed-http-sender.js';
import { ConnectionGoneError, type Sender } from '../../src/core/index.js';
import { scriptedServer } from '../helpers/scripted-server.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

const gone = (): [number, Record<string, string>, string] => [
  410,
  { 'x-amzn-ErrorType': 'GoneException' },
  '{"message":null}',
];

describe('the lean (signed HTTP) sender behaves like the SDK sender', () => {
  // A scripted @connections.
  const fake = scriptedServer([200, {}, '']);
  let endpoint: string;
  let lean: Sender;
  let sdk: Sender;
  let sdkClient: ApiGatewayManagementApiClient;

  beforeAll(async () => {
    endpoint = await fake.start('/prod');
    lean = createSignedHttpSender({ endpoint, region: 'us-east-1', credentials, maxAttempts: 3 });
    sdkClient = new ApiGatewayManagementApiClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 3 });
    sdk = createManagementSender(sdkClient);
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    sdkClient.destroy();
    await fake.close();
  });

  it('sends the same request line and body as the SDK, with a valid SigV4 signature', async () => {
    const id = 'Ab+/=c!d';
    await sdk.send(id, '{"x":1}');
    await lean.send(id, '{"x":1}');
    const [viaSdk, viaLean] = fake.seen;

    expect(viaLean!.method).toBe('POST');
    expect(viaLean!.url).toBe(viaSdk!.url);
    expect(viaLean!.body.toString()).toBe('{"x":1}');
    // Re-sign what arrived, at the time it claims: the signature must match.
    const signer = new SignatureV4({
      service: 'execute-api',
      region: 'us-east-1',
      credentials,
      sha256: Hash.bind(null, 'sha256'),
      applyChecksum: false,
    });
    const amzDate = String(viaLean!.headers['x-amz-date']);
    const signingDate = new Date(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
    );
    const resigned = await signer.sign(
      {
        method: 'POST',
        protocol: 'http:',
        hostname: '127.0.0.1',
        path: viaLean!.url,
        query: {},
        headers: {
          host: String(viaLean!.headers.host),
          'content-type': String(viaLean!.headers['content-type']),
          'x-amz-content-sha256': createHash('sha256').update(viaLean!.body).digest('hex'),
        },
        body: viaLean!.body,
      },
      { signingDate },
    );
    expect(viaLean!.headers.authorization).toBe(resigned.headers.authorization);
    expect(viaLean!.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/execute-api\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
    // The hash it signed is the body's.
    expect(viaLean!.headers['x-amz-content-sha256']).toBe(createHash('sha256').update('{"x":1}').digest('hex'));
  });

  it('410 GoneException → ConnectionGoneError from both, without retrying', async () => {
    for (const sender of [sdk, lean]) {
      fake.script.push(gone);
      const error = await sender.send('c1', 'x').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectionGoneError);
      expect(((error as ConnectionGoneError).cause as Error).name).toBe('GoneException');
    }
    expect(fake.seen).toHaveLength(2);
  });

  it.each([
    [413, 'PayloadTooLargeException'],
    [403, 'ForbiddenException'],
  ])("%i %s keeps AWS's error name and status, like the SDK", async (status, type) => {
    for (const sender of [sdk, lean]) {
      fake.script.push(() => [
        status,
        { 'x-amzn-ErrorType': `${type}:http://internal`, 'content-type': 'application/json' },
        '{"message":"nope"}',
      ]);
      const error = (await sender.send('c1', 'x').catch((e: unknown) => e)) as Error & {
        $metadata: { httpStatusCode: number };
      };
      expect(error.name).toBe(type);
      expect(error.$metadata.httpStatusCode).toBe(status);
    }
  });

  it('retries throttling (429), then succeeds', async () => {
    fake.script.push(() => [429, { 'x-amzn-ErrorType': 'LimitExceededException' }, '{}']);
    await expect(lean.send('c1', 'x')).resolves.toBeUndefined();
    expect(fake.seen).toHaveLength(2);
  });

  it('does not retry a 5xx, which may have been delivered: no frame is sent twice', async () => {
    fake.script.push(() => [500, { 'x-amzn-ErrorType': 'InternalServerErrorException' }, '{"message":"boom"}']);
    const error = (await lean.send('c1', 'x').catch((e: unknown) => e)) as Error;
    expect(error.name).toBe('InternalServerErrorException');
    expect(fake.seen).toHaveLength(1);
  });

  it('treats a 410 without an error type header as gone', async () => {
    fake.script.push(() => [410, {}, '']);
    await expect(lean.send('c1', 'x')).rejects.toBeInstanceOf(ConnectionGoneError);
  });

  it('signs the session token of temporary credentials (as on Lambda)', async () => {
    const temporary = createSignedHttpSender({
      endpoint,
      region: 'us-east-1',
      credentials: { ...credentials, sessionToken: 'TOKEN/with+chars=' },
    });
    await temporary.send('c1', 'x');
    const [request] = fake.seen;
    expect(request!.headers['x-amz-security-token']).toBe('TOKEN/with+chars=');
    expect(request!.headers.authorization).toMatch(/SignedHeaders=[^,]*x-amz-security-token/);
  });

  it('asks the credential provider once, and again only when its credentials near expiry (as on Lambda)', async () => {
    let calls = 0;
    const lasting = async () => ({
      ...credentials,
      sessionToken: `lasting-${++calls}`,
      expiration: new Date(Date.now() + 3_600_000),
    });
    const lastingSender = createSignedHttpSender({ endpoint, region: 'us-east-1', credentials: lasting });
    await Promise.all([lastingSender.send('c1', 'x'), lastingSender.send('c2', 'x')]);
    await lastingSender.send('c3', 'x');
    expect(calls).toBe(1);

    let expiringCalls = 0;
    const expiring = async () => ({
      ...credentials,
      sessionToken: `expiring-${++expiringCalls}`,
      expiration: new Date(Date.now() + 60_000),
    });
    const expiringSender = createSignedHttpSender({ endpoint, region: 'us-east-1', credentials: expiring });
    await expiringSender.send('c4', 'x');
    await expiringSender.send('c5', 'x');
    expect(expiringCalls).toBe(2);
    expect(fake.seen.map((request) => request.headers['x-amz-security-token'])).toEqual([
      'lasting-1',
      'lasting-1',
      'lasting-1',
      'expiring-1',
      'expiring-2',
    ]);
  });

  it('gives up after maxAttempts with the last error', async () => {
    fake.script.push(
      ...Array.from({ length: 3 }, () => (): [number, Record<string, string>, string] => [
        429,
        { 'x-amzn-ErrorType': 'LimitExceededException' },
        '{"message":"slow down"}',
      ]),
    );
    const error = (await lean.send('c1', 'x').catch((e: unknown) => e)) as Error;
    expect(error.name).toBe('LimitExceededException');
    expect(error.message).toBe('slow down');
    expect(fake.seen).toHaveLength(3);
  });
});
