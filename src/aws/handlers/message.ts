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
 * sendmessage and $default entry point (serverless.yml: src/aws/handlers/message.handler):
 * broadcast a valid frame, answer anything else with an error frame. API Gateway hands text
 * frames over as they are (binary frames close the connection before any route), so `body`
 * is never base64.
 */
export const handler = websocketHandler(logger, async ({ requestContext, body }) => {
  config ??= loadConfig(process.env);
  relayFor ??= createRelayFactory(config, undefined, loggerPort(logger));
  await relayFor(managementEndpointFor(config, requestContext)).message(requestContext.connectionId, body);
  return OK;
});
