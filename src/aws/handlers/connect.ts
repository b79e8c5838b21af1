import type { Connections } from '../../core/index.js';
import { createLambdaLogger } from '../logger.js';
import { OK, websocketHandler } from './invocation.js';
import { connectionsFromEnvironment } from './lifecycle.js';

const logger = createLambdaLogger();
/** Built on first use, once per cold start, so a missing setting fails the first invocation loudly. */
let connections: Connections | undefined;

/** $connect entry point (serverless.yml: src/aws/handlers/connect.handler): record the connection. */
export const handler = websocketHandler(logger, async ({ requestContext }) => {
  connections ??= connectionsFromEnvironment();
  const { connectionId, identity, connectedAt } = requestContext;
  await connections.connect({ connectionId, sourceIp: identity.sourceIp, connectedAt });
  return OK;
});
