import { randomBytes } from 'node:crypto';
import { dnsSuffix } from '../aws/partitions.js';
import type { WebSocketEvent, WebSocketRequestContext } from '../aws/websocket-event.js';

/** The API the emulator stands in for. */
export interface ApiIdentity {
  apiId: string;
  stage: string;
  /** The region the API is in: its default endpoint's host names it (`requestContext.domainName`). */
  region: string;
}

/**
 * `requestContext.domainName` as AWS sends it on the default endpoint,
 * `{apiId}.execute-api.{region}.{dnsSuffix}`: handlers build Management API endpoints from it,
 * and inside the sandboxes that host reaches the local @connections (aws-redirect.mjs).
 */
export function executeApiHost(api: Pick<ApiIdentity, 'apiId' | 'region'>): string {
  return `${api.apiId}.execute-api.${api.region}.${dnsSuffix(api.region)}`;
}

/** What the emulator knows of one connection. */
export interface ConnectionIdentity {
  connectionId: string;
  connectedAt: number;
  sourceIp: string;
  userAgent?: string;
  authorizer?: Record<string, unknown>;
}

/** The parts of the upgrade request that AWS copies into the $connect event. */
export interface HandshakeRequest {
  /** Raw header pairs in the order and case the client sent them. */
  rawHeaders: string[];
  /** The query string without '?'. */
  query: string;
}

/**
 * An id shaped like API Gateway's connection, request and message ids (16 characters ending in
 * '='), safe in a URL path.
 */
export function newApiGatewayId(): string {
  return `${randomBytes(11).toString('base64url')}=`;
}

/** $connect: headers and query string are only ever sent on this event. */
export function connectEvent(
  api: ApiIdentity,
  connection: ConnectionIdentity,
  request: HandshakeRequest,
  now = Date.now(),
): WebSocketEvent {
  const { single: headers, multi: multiValueHeaders } = pairsToMaps(headerPairs(request.rawHeaders));
  const queryPairs = [...new URLSearchParams(request.query)];
  const query = pairsToMaps(queryPairs);
  return {
    headers,
    multiValueHeaders,
    ...(queryPairs.length > 0 && {
      queryStringParameters: query.single,
      multiValueQueryStringParameters: query.multi,
    }),
    requestContext: requestContext(api, connection, '$connect', 'CONNECT', now),
    isBase64Encoded: false,
  };
}

/** A text message routed to `routeKey` (API Gateway accepts no binary frames from clients). */
export function messageEvent(
  api: ApiIdentity,
  connection: ConnectionIdentity,
  routeKey: string,
  body: string,
  now = Date.now(),
): WebSocketEvent {
  return {
    requestContext: { ...requestContext(api, connection, routeKey, 'MESSAGE', now), messageId: newApiGatewayId() },
    body,
    isBase64Encoded: false,
  };
}

/** $disconnect, with the close code and reason the socket ended with. */
export function disconnectEvent(
  api: ApiIdentity,
  connection: ConnectionIdentity,
  statusCode: number,
  reason: string,
  now = Date.now(),
): WebSocketEvent {
  // AWS sends these fixed headers on $disconnect.
  const headers = { Host: executeApiHost(api), 'x-api-key': '', 'X-Forwarded-For': '', 'x-restapi': '' };
  return {
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([key, value]) => [key, [value]])),
    requestContext: {
      ...requestContext(api, connection, '$disconnect', 'DISCONNECT', now),
      disconnectStatusCode: statusCode,
      disconnectReason: reason,
    },
    isBase64Encoded: false,
  };
}

function requestContext(
  api: ApiIdentity,
  connection: ConnectionIdentity,
  routeKey: string,
  eventType: WebSocketRequestContext['eventType'],
  now: number,
): WebSocketRequestContext {
  const requestId = newApiGatewayId();
  return {
    routeKey,
    eventType,
    extendedRequestId: requestId,
    requestTime: clfTime(now),
    messageDirection: 'IN',
    stage: api.stage,
    connectedAt: connection.connectedAt,
    requestTimeEpoch: now,
    identity: {
      sourceIp: connection.sourceIp,
      ...(connection.userAgent !== undefined && { userAgent: connection.userAgent }),
    },
    requestId,
    domainName: executeApiHost(api),
    connectionId: connection.connectionId,
    apiId: api.apiId,
    ...(connection.authorizer && { authorizer: connection.authorizer }),
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Common Log Format time, as in requestContext.requestTime: 09/Apr/2024:12:34:56 +0000. */
export function clfTime(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`
  );
}

function headerPairs(rawHeaders: string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) pairs.push([rawHeaders[i]!, rawHeaders[i + 1]!]);
  return pairs;
}

/**
 * AWS keeps the last value in the single-value map and all values in the multi-value map.
 * Built from Maps: names such as `constructor` or `__proto__` are ordinary keys here.
 */
function pairsToMaps(pairs: [string, string][]): { single: Record<string, string>; multi: Record<string, string[]> } {
  const single = new Map<string, string>();
  const multi = new Map<string, string[]>();
  for (const [key, value] of pairs) {
    single.set(key, value);
    multi.set(key, [...(multi.get(key) ?? []), value]);
  }
  return { single: Object.fromEntries(single), multi: Object.fromEntries(multi) };
}
