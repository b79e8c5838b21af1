import { identityFromContext, type Relay } from '../../core/index.js';
import { createRelayFactory } from '../clients.js';
import { loadConfig, managementEndpointFor, type RelayConfig } from '../config.js';
import { createLambdaLogger, loggerPort } from '../logger.js';
import { OK, websocketHandler } from './invocation.js';

const logger = createLambdaLogger();
/** Built on first use, once per cold start, so a missing setting fails the first invocation loudly. */
let config: RelayConfig | undefined;
let relayFor: ((managementEndpoint: string) => Relay) | undefined;

/**
 * sendmessage and $default entry point (serverless.yml: src/aws/handlers/message.handler): carry
 * out a protocol v1 frame as the connection's identity may, answer anything else with an error frame. API Gateway hands text
 * frames over as they are (binary frames close the connection before any route), so `body`
 * is never base64.
 */
export const handler = websocketHandler(logger, async ({ requestContext, body }) => {
  config ??= loadConfig(process.env);
  relayFor ??= createRelayFactory(config, undefined, loggerPort(logger));
  const { connectionId, connectedAt, authorizer } = requestContext;
  const identity = identityFromContext(authorizer, config.anonymousCapabilities);
  await relayFor(managementEndpointFor(config, requestContext)).message({ connectionId, connectedAt, identity }, body);
  return OK;
});
