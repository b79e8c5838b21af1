import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from '../helpers/ws-client.js';
import { echo, openProbe, startTarget, type Target } from './target.js';

const CLF = /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}$/;
const ID = /^[\w+/=-]{8,}$/;

describe('conformance: event shapes', () => {
  let target: Target;
  beforeAll(async () => {
    target = await startTarget('probe');
  });
  afterAll(() => target?.close());

  function expectCommonContext(context: any, eventType: string, routeKey: string) {
    expect(context).toMatchObject({ eventType, routeKey, messageDirection: 'IN', stage: target.stage });
    expect(context.requestTime).toMatch(CLF);
    expect(Math.abs(context.requestTimeEpoch - Date.now())).toBeLessThan(60_000);
    expect(context.connectedAt).toBeLessThanOrEqual(context.requestTimeEpoch);
    expect(context.requestId).toMatch(ID);
    expect(context.extendedRequestId).toMatch(ID);
    expect(context.connectionId).toMatch(ID);
    expect(typeof context.apiId).toBe('string');
    // The default endpoint's host, on AWS and in the emulator alike (handlers build endpoints from it).
    expect(context.domainName).toMatch(
      new RegExp(`^${context.apiId}\\.execute-api\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?$`),
    );
    expect(context.identity.sourceIp).toMatch(/^[\d.:a-f]+$/);
  }

  it('$connect: requestContext, headers as sent, multi-value headers and query strings', async () => {
    const client = await openProbe(target, {
      query: { tag: 'a' },
      headers: { 'User-Agent': 'conformance/1.0', 'X-Custom-Case': 'Kept' },
    });
    const { connectEvent } = await echo(client, { want: 'connectEvent' });

    expectCommonContext(connectEvent.requestContext, 'CONNECT', '$connect');
    expect(connectEvent.requestContext.messageId).toBeUndefined();
    expect(connectEvent.requestContext.identity.userAgent).toBe('conformance/1.0');
    expect(connectEvent.headers['X-Custom-Case']).toBe('Kept');
    expect(connectEvent.multiValueHeaders['X-Custom-Case']).toEqual(['Kept']);
    expect(connectEvent.queryStringParameters).toEqual({ token: 'allow', tag: 'a' });
    expect(connectEvent.multiValueQueryStringParameters).toEqual({ token: ['allow'], tag: ['a'] });
    expect(connectEvent.isBase64Encoded).toBe(false);
    await client.close();
  });

  it('MESSAGE: a messageId, the body as sent, and no headers or query strings', async () => {
    const client = await openProbe(target);
    const { event } = await echo(client, { tag: 'm' });

    expectCommonContext(event.requestContext, 'MESSAGE', 'echo');
    expect(event.requestContext.messageId).toMatch(ID);
    expect(JSON.parse(event.body)).toEqual({ action: 'echo', tag: 'm' });
    expect(event.isBase64Encoded).toBe(false);
    expect(event.headers).toBeUndefined();
    expect(event.queryStringParameters).toBeUndefined();
    await client.close();
  });

  it('$disconnect: disconnectStatusCode and disconnectReason from the close', async () => {
    const watcher = await openProbe(target);
    const watcherId = (await echo(watcher)).event.requestContext.connectionId;
    const client = await openProbe(target, { query: { watcher: watcherId } });
    const clientId = (await echo(client)).event.requestContext.connectionId;

    client.socket.close(1000, 'bye now');
    const report = await watcher.next(10_000);

    expect(report.type).toBe('disconnect');
    expectCommonContext(report.event.requestContext, 'DISCONNECT', '$disconnect');
    expect(report.event.requestContext).toMatchObject({
      connectionId: clientId,
      disconnectStatusCode: 1000,
      disconnectReason: 'bye now',
    });
    await watcher.close();
  });

  it('binary frames are refused: API Gateway closes with 1003, and later frames go nowhere', async () => {
    const watcher = await openProbe(target);
    const watcherId = (await echo(watcher)).event.requestContext.connectionId;
    const client = await openProbe(target);

    client.socket.send(Buffer.from([0xde, 0xad]), { binary: true });
    client.send({ action: 'notify', watcher: watcherId });

    expect((await client.closed).code).toBe(1003);
    await expect(watcher.next(700)).rejects.toThrow(/no frame/);
    await watcher.close();
  });

  it('query-string and header names such as constructor or __proto__ are ordinary names', async () => {
    const client = await connectClient(`${target.wsUrl}?token=allow&constructor=1&__proto__=x&toString=y`, {
      headers: { 'X-Probe': 'yes', valueOf: 'z' },
    });
    const { connectEvent } = await echo(client, { want: 'connectEvent' });
    const query = connectEvent.queryStringParameters;
    // biome-ignore lint/suspicious/noProto: the test sends a query key named __proto__ on purpose
    expect([query.constructor, query.toString, Object.hasOwn(query, '__proto__') && query.__proto__]).toEqual([
      '1',
      'y',
      'x',
    ]);
    expect(connectEvent.headers.valueOf).toBe('z');
    await client.close();
  });
});
