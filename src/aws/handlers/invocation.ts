import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { WebSocketEvent, WebSocketResult } from '../websocket-event.js';

/** A WebSocket route's Lambda handler. `context` is optional: tests call handlers with events alone. */
export type WebSocketHandler = (event: WebSocketEvent, context?: Context) => Promise<WebSocketResult>;

/** What every route answers on success; API Gateway reads only statusCode. */
export const OK: WebSocketResult = { statusCode: 200 };

/**
 * One invocation of a route: the log lines carry the request id, cold start, connection and
 * route; a failure is logged with its stack and cause, then rethrown so Lambda (and API Gateway,
 * which refuses the $connect) see it.
 */
export function websocketHandler(
  logger: Logger,
  route: (event: WebSocketEvent) => Promise<WebSocketResult>,
): WebSocketHandler {
  return async (event, context) => {
    if (context) logger.addContext(context);
    const { connectionId, routeKey } = event.requestContext;
    logger.appendKeys({ connectionId, routeKey });
    try {
      return await route(event);
    } catch (error) {
      logger.error('invocation failed', { error });
      throw error;
    } finally {
      logger.resetKeys();
    }
  };
}
