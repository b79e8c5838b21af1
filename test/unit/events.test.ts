import { describe, expect, it } from 'vitest';
import { clfTime, connectEvent, disconnectEvent, messageEvent } from '../../src/local/events.js';

const api = { apiId: 'local', stage: 'local', region: 'us-east-1' };
const connection = { connectionId: 'abc=', connectedAt: 1_700_000_000_000, sourceIp: '127.0.0.1', userAgent: 'ua/1' };

describe('emulated API Gateway events', () => {
  it('requestTime is in Common Log Format, UTC', () => {
    expect(clfTime(Date.UTC(2024, 1, 9, 7, 5, 3))).toBe('09/Feb/2024:07:05:03 +0000');
  });

  it("$connect carries headers in the client's case, and query strings only when present", () => {
    const withQuery = connectEvent(api, connection, {
      rawHeaders: ['Host', 'x', 'X-Multi', 'a', 'X-Multi', 'b'],
      query: 'token=1&tag=a&tag=b',
    });
    const withoutQuery = connectEvent(api, connection, { rawHeaders: [], query: '' });

    expect(withQuery.headers).toEqual({ Host: 'x', 'X-Multi': 'b' });
    expect(withQuery.multiValueHeaders).toEqual({ Host: ['x'], 'X-Multi': ['a', 'b'] });
    expect(withQuery.queryStringParameters).toEqual({ token: '1', tag: 'b' });
    expect(withQuery.multiValueQueryStringParameters).toEqual({ token: ['1'], tag: ['a', 'b'] });
    expect(withQuery.requestContext).toMatchObject({
      routeKey: '$connect',
      eventType: 'CONNECT',
      connectedAt: connection.connectedAt,
    });
    expect(withQuery.requestContext.messageId).toBeUndefined();
    expect('queryStringParameters' in withoutQuery).toBe(false);
  });

  it('MESSAGE events have a messageId and body but no headers', () => {
    const event = messageEvent(api, connection, 'sendmessage', '{"a":1}');
    expect(event).toMatchObject({ body: '{"a":1}', isBase64Encoded: false });
    expect(event.requestContext.messageId).toMatch(/=$/);
    expect(event.headers).toBeUndefined();
  });

  it("domainName is the API's execute-api host in its region's partition, as AWS sends it", () => {
    const china = { ...api, apiId: 'abc123', region: 'cn-north-1' };

    expect(messageEvent(api, connection, 'x', '').requestContext.domainName).toBe(
      'local.execute-api.us-east-1.amazonaws.com',
    );
    expect(connectEvent(china, connection, { rawHeaders: [], query: '' }).requestContext.domainName).toBe(
      'abc123.execute-api.cn-north-1.amazonaws.com.cn',
    );
    expect(disconnectEvent(api, connection, 1000, '').headers!.Host).toBe('local.execute-api.us-east-1.amazonaws.com');
  });

  it('$disconnect reports the close code and reason', () => {
    const event = disconnectEvent(api, connection, 1001, 'Going away');
    expect(event.requestContext).toMatchObject({
      eventType: 'DISCONNECT',
      disconnectStatusCode: 1001,
      disconnectReason: 'Going away',
    });
  });
});
