import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpApi } from '../../src/aws/http-api.js';
import { createRelay } from '../../src/core/index.js';
import { FakeSender, FakeStore, recordingLogger } from '../helpers/fakes.js';

describe('HTTP API through Fastify inject', () => {
  const store = new FakeStore();
  const sender = new FakeSender();
  const relay = createRelay({ store, sender, clock: { now: () => Date.now() }, logger: recordingLogger() });
  let app: FastifyInstance;

  beforeAll(async () => {
    for (const id of ['a', 'b']) await relay.connect({ connectionId: id, sourceIp: '::1' });
    app = buildHttpApi({ relay, websocketUrl: 'wss://example.test/prod' });
  });
  afterAll(() => app.close());

  it('GET /health answers ok', async () => {
    const response = await app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('POST /messages fans out and says how many connections it reached', async () => {
    const response = await app.inject({ method: 'POST', url: '/messages', payload: { data: { text: 'deploy done' } } });

    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({ delivered: 2, gone: 0, failed: 0 });
    expect(sender.framesFor('b').at(-1)).toMatchObject({ type: 'message', data: { text: 'deploy done' }, from: null });
  });

  it.each([
    ['no data field', '{"text":"hi"}', /data/],
    ['invalid JSON', '{"data":', /JSON/i],
    ['a JSON array', '[1]', /object/],
  ])('POST /messages with %s is a 400 naming the problem and sends nothing', async (_name, payload, message) => {
    const before = sender.sent.length;

    const response = await app.inject({
      method: 'POST',
      url: '/messages',
      payload,
      headers: { 'content-type': 'application/json' },
    });

    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'bad_request', message: expect.stringMatching(message) });
    expect(sender.sent.length).toBe(before);
  });

  it('POST /messages with data too large for one frame is a 413 and sends nothing', async () => {
    const before = sender.sent.length;
    const response = await app.inject({ method: 'POST', url: '/messages', payload: { data: 'x'.repeat(130 * 1024) } });
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ error: 'message_too_large' });
    expect(sender.sent.length).toBe(before);
  });

  it('POST /messages accepts the JSON content type in any case', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/messages',
      payload: '{"data":1}',
      headers: { 'content-type': 'Application/JSON; charset=UTF-8' },
    });
    expect(response.statusCode).toBe(202);
  });

  it('POST /messages with another content type is a 415', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/messages',
      payload: 'data=1',
      headers: { 'content-type': 'text/plain' },
    });
    expect(response.statusCode).toBe(415);
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
  const relay = createRelay({
    store: new FakeStore(),
    sender: new FakeSender(),
    clock: { now: () => Date.now() },
    logger: recordingLogger(),
  });
  const app = buildHttpApi({ relay, websocketUrl: 'wss://example.test/prod', publishToken: 's3cret' });
  afterAll(() => app.close());
  const publish = (authorization?: string) =>
    app.inject({
      method: 'POST',
      url: '/messages',
      payload: { data: 1 },
      headers: authorization ? { authorization } : {},
    });

  it.each([[undefined], ['Bearer wrong!'], ['s3cret'], ['Bearer s3cre']])(
    'refuses %s with 401 and sends nothing',
    async (authorization) => {
      const response = await publish(authorization);
      expect(response.statusCode).toBe(401);
      expect(response.json().message).toMatch(/Bearer/);
    },
  );

  it('accepts the right bearer token', async () => {
    expect((await publish('Bearer s3cret')).statusCode).toBe(202);
  });
});
