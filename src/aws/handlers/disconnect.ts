import type { Relay } from '../../core/index.js';
import { createRelayFactory } from '../clients.js';
import { loadConfig, managementEndpointFor, type RelayConfig } from '../config.js';
import { createLambdaLogger, loggerPort } from '../logger.js';
import { OK, websocketHandler } from './invocation.js';

const logger = createLambdaLogger();
/** Built on first use, once per cold start, so a missing setting fails the first invocation loudly. */
let config: RelayConfig | undefined;
let relayFor: ((managementEndpoint: string) => Relay) | undefined;

/**
 * $disconnect entry point (serverless.yml: src/aws/handlers/disconnect.handler): forget the
 * connection and tell its joinLeave channels it left (so this function needs the sender, unlike
 * $connect). API Gateway ignores the result, and may never call it (TTL cleans up then).
 */
export const handler = websocketHandler(logger, async ({ requestContext }) => {
  config ??= loadConfig(process.env);
  relayFor ??= createRelayFactory(config, undefined, loggerPort(logger));
  await relayFor(managementEndpointFor(config, requestContext)).disconnect(requestContext.connectionId);
  return OK;
});
