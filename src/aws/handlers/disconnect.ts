import type { Connections } from '../../core/index.js';
import { createLambdaLogger } from '../logger.js';
import { OK, websocketHandler } from './invocation.js';
import { lifecycleFromEnvironment } from './lifecycle.js';

const logger = createLambdaLogger();
/** Built on first use, once per cold start, so a missing setting fails the first invocation loudly. */
let connections: Connections | undefined;

/**
 * $disconnect entry point (serverless.yml: src/aws/handlers/disconnect.handler): forget the
 * connection. API Gateway ignores the result, and may never call it (TTL cleans up then).
 */
export const handler = websocketHandler(logger, async ({ requestContext }) => {
  connections ??= lifecycleFromEnvironment().connections;
  await connections.disconnect(requestContext.connectionId);
  return OK;
});
