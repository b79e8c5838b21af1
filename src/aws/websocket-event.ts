/**
 * The Lambda proxy event API Gateway sends for WebSocket routes, field by field as AWS
 * documents it. The local emulator builds exactly this type, so the two cannot drift.
 */
export interface WebSocketEvent {
  requestContext: WebSocketRequestContext;
  /** Present on MESSAGE events: the text frame as sent (a binary frame closes the connection instead). */
  body?: string;
  /** Always false for WebSocket routes: text frames are not encoded. */
  isBase64Encoded: boolean;
  /** $connect only. */
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  queryStringParameters?: Record<string, string>;
  multiValueQueryStringParameters?: Record<string, string[]>;
  stageVariables?: Record<string, string>;
}

export interface WebSocketRequestContext {
  routeKey: string;
  eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT';
  messageId?: string;
  extendedRequestId: string;
  /** CLF form, e.g. 09/Apr/2024:12:34:56 +0000. */
  requestTime: string;
  requestTimeEpoch: number;
  messageDirection: 'IN';
  stage: string;
  connectedAt: number;
  requestId: string;
  domainName: string;
  connectionId: string;
  apiId: string;
  identity: { sourceIp: string; userAgent?: string };
  authorizer?: Record<string, unknown>;
  disconnectStatusCode?: number;
  disconnectReason?: string;
}

/** What a WebSocket route handler returns; API Gateway only reads statusCode and body. */
export interface WebSocketResult {
  statusCode: number;
  body?: string;
}
