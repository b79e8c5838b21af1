import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpApi } from '../../src/aws/http-api.js';
import { createRelay, type Relay } from '../../src/core/index.js';
import { FakeSender, FakeStore, recordingLogger } from '../helpers/fakes.js';

function newRelay(sender = new FakeSender()): Relay {
  return createRelay({ store: new FakeStore(), sender, clock: { now: () => Date.now() }, logger: recordingLogger() });
}

/** Every 4xx/5xx body is `{"error": <code>, "message": <text>}` and nothing else. */
function expectError(response: LightMyRequestResponse, statusCode: number, error: string): string {
  expect({ statusCode: response.statusCode, error: response.json().error }).toEqual({ statusCode, error });
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(Object.keys(response.json()).sort()).toEqual(['error', 'message']);
  expect(response.json().message).toEqual(expect.any(String));
  return response.json().message;
}

const JSON_TYPE = { 'content-type': 'application/json' };

describe('HTTP API through Fastify inject', () => {
  const sender = new FakeSender();
  const relay = newRelay(sender);
  let app: FastifyInstance;

  beforeAll(async () => {
    for (const id of ['a', 'b']) await relay.connect({ connectionId: id, sourceIp: '::1' });
    app = buildHttpApi({ relay, websocketUrl: 'wss://example.test/prod' });
  });
  afterAll(() => app.close());

  const post = (payload: string | object, headers: Record<string, string> = JSON_TYPE) =>
    app.inject({ method: 'POST', url: '/messages', payload, headers });

  it('GET /health answers ok', async () => {
    const response = await app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('POST /messages fans out and says how many connections it reached', async () => {
    const response = await post({ data: { text: 'deploy done' } });

    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({ delivered: 2, gone: 0, failed: 0 });
    expect(sender.framesFor('b').at(-1)).toMatchObject({ type: 'message', data: { text: 'deploy done' }, from: null });
  });

  it.each([
    ['invalid JSON', 'invalid_json', '{"data":', /not JSON/],
    ['an empty body', 'invalid_json', '', /empty/],
    ['no data field', 'missing_data', '{"text":"hi"}', /"data"/],
    ['a JSON array', 'not_an_object', '[1]', /object/],
    ['a JSON string', 'not_an_object', '"hi"', /object/],
    ['JSON null', 'not_an_object', 'null', /object/],
  ])('POST /messages with %s is a 400 %s and sends nothing', async (_name, code, payload, message) => {
    const before = sender.sent.length;

    const response = await post(payload);

    expect(expectError(response, 400, code)).toMatch(message);
    expect(sender.sent.length).toBe(before);
  });

  it('POST /messages with data too large for one frame is a 413 and sends nothing', async () => {
    const before = sender.sent.length;
    const response = await post({ data: 'x'.repeat(130 * 1024) });
    expect(expectError(response, 413, 'message_too_large')).toMatch(/\d+ bytes/);
    expect(sender.sent.length).toBe(before);
  });

  it('POST /messages with a 2 MB body is a 413 and sends nothing', async () => {
    const before = sender.sent.length;
    const response = await post(JSON.stringify({ data: 'x'.repeat(2 * 1024 * 1024) }));
    expectError(response, 413, 'message_too_large');
    expect(sender.sent.length).toBe(before);
  });

  it('POST /messages accepts the JSON content type in any case', async () => {
    const response = await post('{"data":1}', { 'content-type': 'Application/JSON; charset=UTF-8' });
    expect(response.statusCode).toBe(202);
  });

  it.each([
    ['a form body (curl -d)', 'data=1', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['text/plain', '{"data":1}', { 'content-type': 'text/plain' }],
    ['a look-alike type', '{"data":1}', { 'content-type': 'application/json-patch+json' }],
    ['no content type', '', {}],
  ])('POST /messages with %s is a 415 and sends nothing', async (_name, payload, headers) => {
    const before = sender.sent.length;
    expect(expectError(await post(payload, headers), 415, 'unsupported_media_type')).toMatch(/application\/json/);
    expect(sender.sent.length).toBe(before);
  });

  it.each([
    ['GET', '/nothing-here'],
    ['POST', '/nothing-here'],
    ['GET', '/missing.js'],
  ])('%s %s is a 404', async (method, url) => {
    const response = await app.inject({ method: method as 'GET' | 'POST', url });
    expect(expectError(response, 404, 'not_found')).toContain(url);
  });

  it('a malformed URL is a 400 in the same shape', async () => {
    const response = await app.inject({ method: 'GET', url: '/%zz' });
    expectError(response, 400, 'bad_request');
  });

  it.each([
    ['GET', '/messages', 'POST'],
    ['PUT', '/messages', 'POST'],
    ['DELETE', '/health', 'GET, HEAD'],
  ])('%s %s is a 405 naming the methods it takes', async (method, url, allow) => {
    const response = await app.inject({ method: method as 'GET' | 'PUT' | 'DELETE', url });
    expectError(response, 405, 'method_not_allowed');
    expect(response.headers.allow).toBe(allow);
  });

  it('serves the chat page and tells it where the WebSocket API is', async () => {
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<title>Edge Relay chat</title>');
    expect((await app.inject({ method: 'GET', url: '/config.json' })).json()).toEqual({
      websocketUrl: 'wss://example.test/prod',
    });
  });
});

describe('POST /messages with a publish token', () => {
  const sender = new FakeSender();
  const relay = newRelay(sender);
  const app = buildHttpApi({ relay, websocketUrl: 'wss://example.test/prod', publishToken: 's3cret' });
  beforeAll(() => relay.connect({ connectionId: 'a', sourceIp: '::1' }));
  afterAll(() => app.close());
  const publish = (authorization?: string, payload: string = '{"data":1}') =>
    app.inject({
      method: 'POST',
      url: '/messages',
      payload,
      headers: { ...JSON_TYPE, ...(authorization ? { authorization } : {}) },
    });

  it.each([[undefined], ['Bearer wrong!'], ['s3cret'], ['Bearer s3cre'], ['Basic czNjcmV0']])(
    'refuses %s with 401 and sends nothing',
    async (authorization) => {
      const response = await publish(authorization);
      expect(expectError(response, 401, 'unauthorized')).toMatch(/Bearer/);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(sender.sent).toHaveLength(0);
    },
  );

  it('refuses a stranger before reading the body: 401, not 413', async () => {
    const response = await publish('Bearer wrong!', JSON.stringify({ data: 'x'.repeat(2 * 1024 * 1024) }));
    expectError(response, 401, 'unauthorized');
  });

  it.each([['Bearer s3cret'], ['bearer s3cret']])('accepts %s', async (authorization) => {
    expect((await publish(authorization)).statusCode).toBe(202);
  });
});

describe('HTTP API logs (Fastify logger)', () => {
  const lines: Record<string, unknown>[] = [];
  const stream = { write: (line: string) => lines.push(JSON.parse(line)) };
  const relay = newRelay();
  const outage = new Error('DynamoDB unavailable', { cause: new Error('socket hang up') });
  const failing: Relay = {
    ...relay,
    publish: async () => {
      throw outage;
    },
  };
  const app = buildHttpApi({ relay: failing, websocketUrl: 'wss://x.test/prod', logger: { level: 'info', stream } });
  afterAll(() => app.close());

  it('an unexpected failure is a 500 saying nothing more, logged with stack, cause and request id', async () => {
    // Act
    const response = await app.inject({ method: 'POST', url: '/messages', payload: { data: 1 } });

    // Assert
    expect(expectError(response, 500, 'internal_error')).toBe('internal error');
    const failure = lines.find((line) => line.msg === 'request failed');
    expect(failure).toMatchObject({ level: 'error', reqId: expect.any(String) });
    const err = failure!.err as { message: string; stack: string };
    expect(err.message).toContain('DynamoDB unavailable');
    expect(err.stack).toMatch(/^Error: DynamoDB unavailable\n\s+at .*caused by: Error: socket hang up/s);
    const completed = lines.find((line) => line.msg === 'request completed');
    expect(completed).toMatchObject({ level: 'info', reqId: failure!.reqId, res: { statusCode: 500 } });
  });
});
