import { createHash } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeRetries } from '../../src/aws/close-retries.js';
import { deliveryRetries } from '../../src/aws/delivery-retries.js';
import { createManagementSender } from '../../src/aws/management-sender.js';
import { TRANSIENT_BACKOFF_MS } from '../../src/aws/retry.js';
import { createSignedHttpSender, encodeConnectionId } from '../../src/aws/signed-http-sender.js';
import { ConnectionGoneError, type Sender } from '../../src/core/index.js';
import type { DevServer } from '../../src/local/dev-server.js';
import { startTestServer } from '../helpers/dev-server.js';
import { type Answer, type Captured, scriptedServer } from '../helpers/scripted-server.js';
import { connectClient } from '../helpers/ws-client.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

const gone = (): [number, Record<string, string>, string] => [
  410,
  { 'x-amzn-ErrorType': 'GoneException' },
  '{"message":null}',
];

/** What the SDK's own signer makes of the request that arrived, at the time it claims: the reference. */
async function resign(request: Captured, identity: typeof credentials & { sessionToken?: string }): Promise<string> {
  const signer = new SignatureV4({
    service: 'execute-api',
    region: 'us-east-1',
    credentials: identity,
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: false,
  });
  const amzDate = String(request.headers['x-amz-date']);
  // 20261201T192233Z → 2026-12-01T19:22:33Z
  const signingDate = new Date(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  const contentType = request.headers['content-type'];
  const resigned = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: request.url,
      query: {},
      headers: {
        host: String(request.headers.host),
        ...(contentType !== undefined && { 'content-type': contentType }),
        'x-amz-content-sha256': createHash('sha256').update(request.body).digest('hex'),
      },
      body: request.body,
    },
    { signingDate },
  );
  return resigned.headers.authorization!;
}

describe('the lean (signed HTTP) sender behaves like the SDK sender', () => {
  // A scripted @connections.
  const fake = scriptedServer([200, {}, '']);
  let endpoint: string;
  let lean: Sender;
  let sdk: ReturnType<typeof createManagementSender>;
  const both = () =>
    [
      ['lean', lean],
      ['sdk', sdk],
    ] as const;

  beforeAll(async () => {
    endpoint = await fake.start('/prod');
    lean = createSignedHttpSender({ endpoint, region: 'us-east-1', credentials, maxAttempts: 3 });
    sdk = createManagementSender({ endpoint, region: 'us-east-1', credentials, maxAttempts: 3 });
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    sdk.destroy();
    await fake.close();
  });

  it.each(['Ab+/=c!d', "a~b_c-d.e*f(g)h'i%j é"])(
    'sends the same request line and body as the SDK, with a valid SigV4 signature (id %s)',
    async (id) => {
      await sdk.send(id, '{"x":1}');
      await lean.send(id, '{"x":1}');
      const [viaSdk, viaLean] = fake.seen;

      expect(viaLean!.method).toBe('POST');
      expect(viaLean!.url).toBe(viaSdk!.url);
      expect(viaLean!.url).toBe(`/prod/@connections/${encodeConnectionId(id)}`);
      expect(viaLean!.body.toString()).toBe('{"x":1}');
      expect(viaLean!.headers.authorization).toBe(await resign(viaLean!, credentials));
      expect(viaLean!.headers.authorization).toMatch(
        new RegExp(
          '^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\\d{8}/us-east-1/execute-api/aws4_request, ' +
            'SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$',
        ),
      );
      // The hash it signed is the body's.
      expect(viaLean!.headers['x-amz-content-sha256']).toBe(createHash('sha256').update('{"x":1}').digest('hex'));
    },
  );

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

  it.each(['lean', 'sdk'] as const)('the %s sender retries throttling (429), then succeeds', async (name) => {
    const sender = { lean, sdk }[name];
    fake.script.push(() => [429, { 'x-amzn-ErrorType': 'LimitExceededException' }, '{}']);
    await expect(sender.send('c1', 'x')).resolves.toBeUndefined();
    expect(fake.seen).toHaveLength(2);
  });

  it.each([
    [500, 'InternalServerErrorException'],
    [502, 'BadGatewayException'],
    [503, 'ServiceUnavailableException'],
  ])('neither sender retries a %i, which may have been delivered: no frame is sent twice', async (status, type) => {
    for (const [name, sender] of both()) {
      fake.reset();
      fake.script.push(() => [status, { 'x-amzn-ErrorType': type }, '{"message":"boom"}']);
      const error = (await sender.send('c1', 'x').catch((e: unknown) => e)) as Error;
      expect({ name, error: error.name }).toEqual({ name, error: type });
      expect({ name, requests: fake.seen.length }).toEqual({ name, requests: 1 });
    }
  });

  it('neither sender retries a connection dropped after the request arrived', async () => {
    for (const [name, sender] of both()) {
      fake.reset();
      fake.script.push(() => 'drop');
      await expect(sender.send('c1', 'x')).rejects.toBeDefined();
      expect({ name, requests: fake.seen.length }).toEqual({ name, requests: 1 });
    }
  });

  it('both take a refused connection (never sent) for one worth retrying', async () => {
    const nowhere = 'http://127.0.0.1:9/prod';
    const once = { region: 'us-east-1', credentials, maxAttempts: 1 };
    const sdkOnce = createManagementSender({ endpoint: nowhere, ...once });
    const errors = await Promise.all([
      createSignedHttpSender({ endpoint: nowhere, ...once })
        .send('c1', 'x')
        .catch((e: unknown) => e),
      sdkOnce.send('c1', 'x').catch((e: unknown) => e),
    ]);
    sdkOnce.destroy();
    for (const error of errors) expect(deliveryRetries(3).backoffBaseMs(error)).toBe(TRANSIENT_BACKOFF_MS);
  });

  it('both treat a 410 without an error type header as gone', async () => {
    for (const [, sender] of both()) {
      fake.script.push(() => [410, {}, '']);
      await expect(sender.send('c1', 'x')).rejects.toBeInstanceOf(ConnectionGoneError);
    }
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
    expect(request!.headers.authorization).toBe(
      await resign(request!, { ...credentials, sessionToken: 'TOKEN/with+chars=' }),
    );
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

  it('both give up after maxAttempts with the last error', async () => {
    for (const [name, sender] of both()) {
      fake.reset();
      fake.script.push(
        ...Array.from({ length: 3 }, () => (): [number, Record<string, string>, string] => [
          429,
          { 'x-amzn-ErrorType': 'LimitExceededException', 'content-type': 'application/json' },
          '{"message":"slow down"}',
        ]),
      );
      const error = (await sender.send('c1', 'x').catch((e: unknown) => e)) as Error;
      expect({ name, type: error.name, message: error.message }).toEqual({
        name,
        type: 'LimitExceededException',
        message: 'slow down',
      });
      expect({ name, requests: fake.seen.length }).toEqual({ name, requests: 3 });
    }
  });
});

describe('closing a connection (DeleteConnection): the lean sender behaves like the SDK sender', () => {
  const fake = scriptedServer([204, {}, '']);
  let lean: Sender;
  let sdk: ReturnType<typeof createManagementSender>;
  const both = () =>
    [
      ['lean', lean],
      ['sdk', sdk],
    ] as const;
  const answer =
    (status: number, type: string): Answer =>
    () => [status, { 'x-amzn-ErrorType': type, 'content-type': 'application/json' }, '{"message":"no"}'];

  beforeAll(async () => {
    const endpoint = await fake.start('/prod');
    lean = createSignedHttpSender({ endpoint, region: 'us-east-1', credentials, maxAttempts: 3 });
    sdk = createManagementSender({ endpoint, region: 'us-east-1', credentials, maxAttempts: 3 });
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    sdk.destroy();
    await fake.close();
  });

  it("sends the SDK's DELETE request line, no body, with a valid SigV4 signature", async () => {
    const id = "Ab+/=c!d'é";
    await sdk.close(id);
    await lean.close(id);
    const [viaSdk, viaLean] = fake.seen;

    expect(viaSdk!.method).toBe('DELETE');
    expect(viaLean!.method).toBe('DELETE');
    expect(viaLean!.url).toBe(viaSdk!.url);
    expect(viaLean!.url).toBe(`/prod/@connections/${encodeConnectionId(id)}`);
    expect(viaLean!.body).toHaveLength(0);
    expect(viaLean!.headers['x-amz-content-sha256']).toBe(viaSdk!.headers['x-amz-content-sha256']);
    expect(viaLean!.headers.authorization).toBe(await resign(viaLean!, credentials));
    expect(viaLean!.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/execute-api\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
  });

  it.each([200, 204])('both take a %i for closed', async (status) => {
    for (const [, sender] of both()) {
      fake.script.push(() => [status, {}, '']);
      await expect(sender.close('c1')).resolves.toBeUndefined();
    }
  });

  it('a first 410 → ConnectionGoneError from both, without retrying', async () => {
    for (const [name, sender] of both()) {
      fake.reset();
      fake.script.push(answer(410, 'GoneException'));
      const error = await sender.close('c1').catch((e: unknown) => e);
      expect({ name, gone: error instanceof ConnectionGoneError }).toEqual({ name, gone: true });
      expect({ name, requests: fake.seen.length }).toEqual({ name, requests: 1 });
    }
  });

  it.each([
    [500, 'InternalServerErrorException'],
    [503, 'ServiceUnavailableException'],
    [429, 'LimitExceededException'],
  ])('both close again after a %i (closing twice is harmless), then succeed', async (status, type) => {
    for (const [name, sender] of both()) {
      fake.reset();
      fake.script.push(answer(status, type));
      await expect(sender.close('c1')).resolves.toBeUndefined();
      expect({ name, requests: fake.seen.length }).toEqual({ name, requests: 2 });
    }
  });

  it('both close again after a dropped connection, and take the 410 that follows for closed', async () => {
    for (const [name, sender] of both()) {
      fake.reset();
      // The first DELETE arrived and closed it; its answer was lost.
      fake.script.push(() => 'drop', answer(410, 'GoneException'));
      await expect(sender.close('c1')).resolves.toBeUndefined();
      expect({ name, requests: fake.seen.length }).toEqual({ name, requests: 2 });
    }
  });

  it("neither retries a 403, and both keep AWS's error name and status", async () => {
    for (const [name, sender] of both()) {
      fake.reset();
      fake.script.push(answer(403, 'ForbiddenException'));
      const error = (await sender.close('c1').catch((e: unknown) => e)) as Error & {
        $metadata: { httpStatusCode: number };
      };
      expect({ name, type: error.name, status: error.$metadata.httpStatusCode }).toEqual({
        name,
        type: 'ForbiddenException',
        status: 403,
      });
      expect({ name, requests: fake.seen.length }).toEqual({ name, requests: 1 });
    }
  });

  it('both give up after maxAttempts with the last error', async () => {
    for (const [name, sender] of both()) {
      fake.reset();
      fake.script.push(...Array.from({ length: 3 }, () => answer(503, 'ServiceUnavailableException')));
      const error = (await sender.close('c1').catch((e: unknown) => e)) as Error;
      expect({ name, type: error.name }).toEqual({ name, type: 'ServiceUnavailableException' });
      expect({ name, requests: fake.seen.length }).toEqual({ name, requests: 3 });
    }
  });

  it('both take a refused connection for one worth closing again', async () => {
    const nowhere = 'http://127.0.0.1:9/prod';
    const once = { region: 'us-east-1', credentials, maxAttempts: 1 };
    const sdkOnce = createManagementSender({ endpoint: nowhere, ...once });
    const errors = await Promise.all([
      createSignedHttpSender({ endpoint: nowhere, ...once })
        .close('c1')
        .catch((e: unknown) => e),
      sdkOnce.close('c1').catch((e: unknown) => e),
    ]);
    sdkOnce.destroy();
    for (const error of errors) expect(closeRetries(3).backoffBaseMs(error)).toBe(TRANSIENT_BACKOFF_MS);
  });
});

describe("closing a connection through the emulator's @connections", () => {
  let server: DevServer;
  beforeAll(async () => {
    server = await startTestServer({ http: false });
  });
  afterAll(() => server.close());

  /** A real connection and its id (a sendmessage's echo names the sender). */
  async function openConnection() {
    const client = await connectClient(server.wsUrl);
    client.send({ action: 'sendmessage', data: 'who am I' });
    const frame = await client.next();
    return { client, connectionId: frame.from as string };
  }

  it.each(['lean', 'sdk'] as const)(
    'the %s sender closes it (1000) and a second close is ConnectionGoneError',
    async (name) => {
      const options = { endpoint: server.managementUrl, region: 'us-east-1', credentials };
      const sender = name === 'lean' ? createSignedHttpSender(options) : createManagementSender(options);
      const { client, connectionId } = await openConnection();

      await sender.close(connectionId);

      expect(await client.closed).toMatchObject({ code: 1000 });
      await expect(sender.close(connectionId)).rejects.toBeInstanceOf(ConnectionGoneError);
      await expect(sender.send(connectionId, 'x')).rejects.toBeInstanceOf(ConnectionGoneError);
      if ('destroy' in sender) (sender as { destroy(): void }).destroy();
    },
  );
});
