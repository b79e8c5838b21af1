import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildHttpApi, type DevTokenRequest, type ServerRelay } from '../../src/aws/http-api.js';
import { expectError, fakeRelay, JSON_TYPE } from './server-api-fixtures.js';

/** The three ways to publish, each with the channel it publishes to. */
const PUBLISH_ROUTES = [
  ['/messages', 'default'],
  ['/channels/chat:lobby/messages', 'chat:lobby'],
  ['/users/alice/messages', 'user:alice'],
] as const;

describe('HTTP API through Fastify inject', () => {
  const fake = fakeRelay();
  const { sender, published } = fake;
  let app: FastifyInstance;

  beforeAll(async () => {
    fake.connect('a', 'default', 'chat:lobby');
    fake.connect('b', 'default', 'user:alice');
    fake.connect('c', 'default');
    app = buildHttpApi({ relay: fake.relay, websocketUrl: 'wss://example.test/prod' });
  });
  afterAll(() => app.close());

  const post = (url: string, payload: string | object, headers: Record<string, string> = JSON_TYPE) =>
    app.inject({ method: 'POST', url, payload, headers });

  it('GET /health answers ok', async () => {
    const response = await app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('POST /messages publishes to the default channel and says how many connections it reached', async () => {
    const response = await post('/messages', { data: { text: 'deploy done' } });

    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({ messageId: expect.any(String), offset: 1, delivered: 3, gone: 0, failed: 0 });
    expect(published.at(-1)).toEqual({ channel: 'default', data: { text: 'deploy done' } });
  });

  it('POST /channels/{channel}/messages publishes to that channel only', async () => {
    const response = await post('/channels/chat:lobby/messages', { data: 'hi lobby' });

    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({ messageId: expect.any(String), offset: 1, delivered: 1, gone: 0, failed: 0 });
    expect(published.at(-1)).toEqual({ channel: 'chat:lobby', data: 'hi lobby' });
    expect(sender.framesFor('a').at(-1)).toMatchObject({ channel: 'chat:lobby', id: response.json().messageId });
  });

  it.each([
    ['percent-encoded', '/channels/chat%3Alobby%40eu/messages', 'chat:lobby@eu'],
    ['of 128 characters', `/channels/${'c'.repeat(128)}/messages`, 'c'.repeat(128)],
    ['with every allowed character', '/channels/A-z_0.9:@=/messages', 'A-z_0.9:@='],
  ])('takes a channel name %s', async (_name, url, channel) => {
    expect((await post(url, { data: 1 })).statusCode).toBe(202);
    expect(published.at(-1)).toEqual({ channel, data: 1 });
  });

  it('POST /users/{userId}/messages publishes to the personal channel user:<userId>', async () => {
    const response = await post('/users/alice/messages', { data: { text: 'just you' } });

    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({ delivered: 1 });
    expect(published.at(-1)).toEqual({ channel: 'user:alice', data: { text: 'just you' } });
  });

  it.each([
    ['a space', '/channels/chat%20lobby/messages'],
    ['a slash', '/channels/chat%2Flobby/messages'],
    ['a non-ASCII letter', '/channels/caf%C3%A9/messages'],
    ['129 characters', `/channels/${'c'.repeat(129)}/messages`],
    ['1000 characters', `/channels/${'c'.repeat(1000)}/messages`],
    ['an empty name', '/channels//messages'],
  ])('a channel with %s is a 400 invalid_channel and publishes nothing', async (_name, url) => {
    const before = published.length;
    expect(expectError(await post(url, { data: 1 }), 400, 'invalid_channel')).toMatch(/channel name/);
    expect(published.length).toBe(before);
  });

  it('a bad channel is reported before a bad body: the URL is wrong whatever is sent', async () => {
    expectError(
      await post('/channels/a%20b/messages', 'x=1', { 'content-type': 'text/plain' }),
      400,
      'invalid_channel',
    );
  });

  it.each([
    ['a character a channel cannot hold', '/users/auth0%7C123/messages'],
    ['124 characters (user:<id> would be 129)', `/users/${'u'.repeat(124)}/messages`],
  ])('a user id with %s is a 400 invalid_channel and publishes nothing', async (_name, url) => {
    const before = published.length;
    expect(expectError(await post(url, { data: 1 }), 400, 'invalid_channel')).toMatch(/personal channel/);
    expect(published.length).toBe(before);
  });

  describe.each(PUBLISH_ROUTES)('POST %s', (url, channel) => {
    it('passes an idempotencyKey on; a repeat is a 202 with the first offset and messageId, duplicate, not published', async () => {
      // Arrange
      const idempotencyKey = `order-42-${channel}`;
      const first = await post(url, { data: 'once', idempotencyKey });
      const before = published.length;

      // Act
      const repeat = await post(url, { data: 'once', idempotencyKey });

      // Assert
      expect(first.statusCode).toBe(202);
      expect(first.json()).not.toHaveProperty('duplicate');
      expect(published.at(-1)).toEqual({ channel, data: 'once', idempotencyKey });
      const { messageId, offset } = first.json();
      expect({ statusCode: repeat.statusCode, body: repeat.json() }).toEqual({
        statusCode: 202,
        body: { messageId, offset, delivered: 0, gone: 0, failed: 0, duplicate: true },
      });
      expect(published.length).toBe(before);
    });

    it('takes an idempotencyKey of 64 characters', async () => {
      expect((await post(url, { data: 1, idempotencyKey: 'k'.repeat(64) })).statusCode).toBe(202);
      expect(published.at(-1)).toEqual({ channel, data: 1, idempotencyKey: 'k'.repeat(64) });
    });

    it.each([
      ['an empty idempotencyKey', ''],
      ['an idempotencyKey of 65 characters', 'k'.repeat(65)],
      ['a numeric idempotencyKey', 42],
      ['a null idempotencyKey', null],
    ])('with %s is a 400 invalid_request naming the field, and publishes nothing', async (_name, idempotencyKey) => {
      const before = published.length;
      expect(expectError(await post(url, { data: 1, idempotencyKey }), 400, 'invalid_request')).toMatch(
        /idempotencyKey/,
      );
      expect(published.length).toBe(before);
    });

    it('a repeat while the first publish with its key is still being placed is a 409 in_progress', async () => {
      fake.placing(channel, 'slow-key');
      const before = published.length;
      expect(expectError(await post(url, { data: 1, idempotencyKey: 'slow-key' }), 409, 'in_progress')).toMatch(
        /still being placed/,
      );
      expect(published.length).toBe(before);
    });

    it.each([
      ['invalid JSON', 'invalid_json', '{"data":', /not JSON/],
      ['an empty body', 'invalid_json', '', /empty/],
      ['no data field', 'missing_data', '{"text":"hi"}', /"data"/],
      ['a JSON array', 'not_an_object', '[1]', /object/],
      ['a JSON string', 'not_an_object', '"hi"', /object/],
      ['JSON null', 'not_an_object', 'null', /object/],
    ])('with %s is a 400 %s and publishes nothing', async (_name, code, payload, message) => {
      const before = published.length;
      expect(expectError(await post(url, payload), 400, code)).toMatch(message);
      expect(published.length).toBe(before);
    });

    it.each([
      ['a form body (curl -d)', 'data=1', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['text/plain', '{"data":1}', { 'content-type': 'text/plain' }],
      ['a look-alike type', '{"data":1}', { 'content-type': 'application/json-patch+json' }],
      ['no content type', '', {}],
    ])('with %s is a 415 and publishes nothing', async (_name, payload, headers) => {
      const before = published.length;
      expect(expectError(await post(url, payload, headers), 415, 'unsupported_media_type')).toMatch(
        /application\/json/,
      );
      expect(published.length).toBe(before);
    });

    it('with data too large for one frame is a 413 and publishes nothing', async () => {
      const before = published.length;
      expect(expectError(await post(url, { data: 'x'.repeat(130 * 1024) }), 413, 'message_too_large')).toMatch(
        /\d+ bytes/,
      );
      expect(published.length).toBe(before);
    });

    it('with a 2 MB body is a 413 and publishes nothing', async () => {
      const before = published.length;
      expectError(await post(url, JSON.stringify({ data: 'x'.repeat(2 * 1024 * 1024) })), 413, 'message_too_large');
      expect(published.length).toBe(before);
    });

    it('accepts the JSON content type in any case', async () => {
      expect((await post(url, '{"data":1}', { 'content-type': 'Application/JSON; charset=UTF-8' })).statusCode).toBe(
        202,
      );
    });
  });

  it('DELETE /connections/{id} closes the connection: 204, then 404 since it is gone', async () => {
    fake.connect('to-close');

    const response = await app.inject({ method: 'DELETE', url: '/connections/to-close' });

    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    expect(sender.closed).toEqual(['to-close']);
    const again = await app.inject({ method: 'DELETE', url: '/connections/to-close' });
    expect(expectError(again, 404, 'not_found')).toContain('to-close');
  });

  it("DELETE /connections/{id} with an id that looks like API Gateway's (base64, percent-encoded)", async () => {
    fake.connect('L0SM9cOFvHcCIhw=');
    const response = await app.inject({ method: 'DELETE', url: '/connections/L0SM9cOFvHcCIhw%3D' });
    expect(response.statusCode).toBe(204);
    expect(sender.closed).toContain('L0SM9cOFvHcCIhw=');
  });

  it('DELETE /connections/{id} with a JSON content type but no body (as some clients send) closes it', async () => {
    fake.connect('typed');
    const response = await app.inject({ method: 'DELETE', url: '/connections/typed', headers: JSON_TYPE });
    expect(response.statusCode).toBe(204);
  });

  it('DELETE /connections/{id} of an unknown connection is a 404 and closes nothing', async () => {
    const before = sender.closed.length;
    expect(expectError(await app.inject({ method: 'DELETE', url: '/connections/nobody' }), 404, 'not_found')).toMatch(
      /nobody/,
    );
    expect(sender.closed.length).toBe(before);
  });

  it('DELETE /connections/{id} with an id longer than any connection id is a 400', async () => {
    const response = await app.inject({ method: 'DELETE', url: `/connections/${'x'.repeat(129)}` });
    expect(expectError(response, 400, 'invalid_request')).toMatch(/connectionId/);
  });

  it('POST /dev/token does not exist unless the dev server asks for it', async () => {
    expectError(await post('/dev/token', { user: 'alice' }), 404, 'not_found');
  });

  it.each([
    ['GET', '/nothing-here'],
    ['POST', '/nothing-here'],
    ['GET', '/missing.js'],
    ['POST', '/channels/chat:lobby'],
    ['POST', '/channels/chat:lobby/messages/extra'],
    ['POST', '/connections/a/b'],
    ['GET', '/channels/chat:lobby/history/extra'],
    ['GET', '/channels/chat:lobby'],
  ])('%s %s is a 404', async (method, url) => {
    const response = await app.inject({ method: method as 'GET' | 'POST', url });
    expect(expectError(response, 404, 'not_found')).toContain(url);
  });

  it('a malformed URL is a 400 in the same shape', async () => {
    expectError(await app.inject({ method: 'GET', url: '/%zz' }), 400, 'bad_request');
  });

  it.each([
    ['GET', '/messages', 'POST'],
    ['PUT', '/messages', 'POST'],
    ['DELETE', '/health', 'GET, HEAD'],
    ['GET', '/channels/chat:lobby/messages', 'POST'],
    ['GET', '/users/alice/messages', 'POST'],
    ['POST', '/connections/abc', 'DELETE'],
    ['POST', '/channels/chat:lobby/history', 'GET, HEAD'],
    ['DELETE', '/channels/chat:lobby/presence', 'GET, HEAD'],
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

describe('the server API with a publish token', () => {
  const fake = fakeRelay();
  const app = buildHttpApi({
    relay: fake.relay,
    websocketUrl: 'wss://example.test/prod',
    publishToken: 's3cret',
    devTokens: async () => 'dev-token',
  });
  beforeAll(() => fake.connect('a', 'default', 'chat:lobby', 'user:alice'));
  afterAll(() => app.close());
  const READ_ROUTES = [
    ['GET', '/channels/chat:lobby/history'],
    ['GET', '/channels/chat:lobby/presence'],
  ] as const;
  const ROUTES = [
    ...PUBLISH_ROUTES.map(([url]) => ['POST', url] as const),
    ['DELETE', '/connections/a'] as const,
    ...READ_ROUTES,
  ];
  const call = (
    [method, url]: readonly ['POST' | 'DELETE' | 'GET', string],
    authorization?: string,
    payload = '{"data":1}',
  ) =>
    app.inject({
      method,
      url,
      ...(method === 'POST' && { payload }),
      headers: { ...(method === 'POST' && JSON_TYPE), ...(authorization ? { authorization } : {}) },
    });

  describe.each(ROUTES)('%s %s', (method, url) => {
    it.each([[undefined], ['Bearer wrong!'], ['s3cret'], ['Bearer s3cre'], ['Basic czNjcmV0']])(
      'refuses %s with a 401 naming the header, and does nothing',
      async (authorization) => {
        const response = await call([method, url], authorization);
        expect(expectError(response, 401, 'unauthorized')).toMatch(/Authorization: Bearer <PUBLISH_TOKEN>/);
        expect(response.headers['www-authenticate']).toBe('Bearer');
        const { published, reads, sender } = fake;
        expect({ published, reads, sent: sender.sent, closed: sender.closed }).toEqual({
          published: [],
          reads: [],
          sent: [],
          closed: [],
        });
      },
    );
  });

  it('refuses a stranger before reading the body: 401, not 413', async () => {
    const response = await call(['POST', '/messages'], 'Bearer wrong!', JSON.stringify({ data: 'x'.repeat(2e6) }));
    expectError(response, 401, 'unauthorized');
  });

  it('refuses a stranger before looking at the channel: 401, not 400', async () => {
    expectError(await call(['POST', '/channels/a%20b/messages'], 'Bearer wrong!'), 401, 'unauthorized');
    expectError(await call(['GET', '/channels/a%20b/history'], 'Bearer wrong!'), 401, 'unauthorized');
  });

  it('refuses a stranger before looking at the query: 401, not 400', async () => {
    expectError(await call(['GET', '/channels/chat:lobby/history?limit=x'], 'Bearer wrong!'), 401, 'unauthorized');
  });

  it.each([['Bearer s3cret'], ['bearer s3cret']])('accepts %s on every route', async (authorization) => {
    for (const route of PUBLISH_ROUTES) expect((await call(['POST', route[0]], authorization)).statusCode).toBe(202);
    for (const route of READ_ROUTES) expect((await call(route, authorization)).statusCode).toBe(200);
  });

  it('closes with the token', async () => {
    expect((await call(['DELETE', '/connections/a'], 'Bearer s3cret')).statusCode).toBe(204);
  });

  it('POST /dev/token needs no publish token: the page has none (it exists only under npm run dev)', async () => {
    const response = await app.inject({ method: 'POST', url: '/dev/token', payload: { user: 'alice' } });
    expect(response.statusCode).toBe(200);
  });
});

describe('POST /dev/token (npm run dev)', () => {
  const requests: DevTokenRequest[] = [];
  const app = buildHttpApi({
    relay: fakeRelay().relay,
    websocketUrl: 'wss://example.test/prod',
    devTokens: async (request) => {
      requests.push(request);
      return `token-for-${request.user}`;
    },
  });
  afterAll(() => app.close());
  beforeEach(() => {
    requests.length = 0;
  });
  const token = (payload: unknown, headers: Record<string, string> = JSON_TYPE) =>
    app.inject({ method: 'POST', url: '/dev/token', payload: JSON.stringify(payload), headers });

  it('signs a token for the user', async () => {
    const response = await token({ user: 'alice' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ token: 'token-for-alice' });
    expect(requests).toEqual([{ user: 'alice' }]);
  });

  it('passes info and channels on', async () => {
    const body = { user: 'bob', info: { name: 'Bob' }, channels: { 'chat:*': ['subscribe', 'publish'] } };
    expect((await token(body)).statusCode).toBe(200);
    expect(requests).toEqual([body]);
  });

  it.each([
    ['no user', {}, /user/],
    ['an empty user', { user: '' }, /user/],
    ['a numeric user', { user: 42 }, /user/],
    ['a user of 129 characters', { user: 'u'.repeat(129) }, /user/],
    ['a user that cannot name a personal channel', { user: 'auth0|123' }, /"user".*personal channel/],
    ['a user of 124 characters (user:<id> would be too long)', { user: 'u'.repeat(124) }, /"user"/],
    ['info that is not an object', { user: 'alice', info: 'Alice' }, /info/],
    ['info that is an array', { user: 'alice', info: ['Alice'] }, /info/],
    [
      'info over 1 KB',
      { user: 'alice', info: { name: 'x'.repeat(1100) } },
      /"info" is \d+ bytes as JSON; at most 1024/,
    ],
    ['channels that are not an object', { user: 'alice', channels: ['chat:*'] }, /channels/],
    ['channels with an unknown operation', { user: 'alice', channels: { 'chat:*': ['fly'] } }, /"channels".*chat:\*/],
    ['channels with a bad pattern', { user: 'alice', channels: { 'a b': ['subscribe'] } }, /"channels".*pattern/],
    ['channels whose operations are not a list', { user: 'alice', channels: { news: 'subscribe' } }, /"channels"/],
  ])('%s is a 400 invalid_request naming the field, and signs nothing', async (_name, body, message) => {
    expect(expectError(await token(body), 400, 'invalid_request')).toMatch(message);
    expect(requests).toEqual([]);
  });

  it.each([
    ['invalid JSON', '{"user":', 400, 'invalid_json'],
    ['a JSON array', '["alice"]', 400, 'not_an_object'],
  ])('%s (%s) is a %i %s that says what the route takes', async (_name, payload, status, code) => {
    const response = await app.inject({ method: 'POST', url: '/dev/token', payload, headers: JSON_TYPE });
    expect(expectError(response, status, code)).toMatch(/POST \/dev\/token takes/);
  });

  it('a form body is a 415', async () => {
    const response = await token('user=alice', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(expectError(response, 415, 'unsupported_media_type')).toMatch(/\/dev\/token/);
  });

  it('GET /dev/token is a 405', async () => {
    expectError(await app.inject({ method: 'GET', url: '/dev/token' }), 405, 'method_not_allowed');
  });
});

describe('HTTP API logs (Fastify logger)', () => {
  const lines: Record<string, unknown>[] = [];
  const stream = { write: (line: string) => lines.push(JSON.parse(line)) };
  const outage = new Error('DynamoDB unavailable', { cause: new Error('socket hang up') });
  const failing: ServerRelay = {
    ...fakeRelay().relay,
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
