import { type Connections, identityFromContext } from '../../core/index.js';
import type { RelayConfig } from '../config.js';
import { createLambdaLogger } from '../logger.js';
import { OK, websocketHandler } from './invocation.js';
import { lifecycleFromEnvironment } from './lifecycle.js';

const logger = createLambdaLogger();
/** Built on first use, once per cold start, so a missing setting fails the first invocation loudly. */
let lifecycle: { config: RelayConfig; connections: Connections } | undefined;

/**
 * $connect entry point (serverless.yml: src/aws/handlers/connect.handler): record the connection
 * with the identity the authorizer established, and subscribe it to its automatic channels.
 */
export const handler = websocketHandler(logger, async ({ requestContext }) => {
  lifecycle ??= lifecycleFromEnvironment();
  const { connectionId, identity, connectedAt, authorizer } = requestContext;
  await lifecycle.connections.connect({
    connectionId,
    sourceIp: identity.sourceIp,
    connectedAt,
    identity: identityFromContext(authorizer, lifecycle.config.anonymousCapabilities),
  });
  return OK;
});
