import { AsyncLocalStorage } from 'node:async_hooks';
import awsLambdaFastify from '@fastify/aws-lambda';
import { createRelayFactory } from './clients.js';
import { ConfigError, loadConfig } from './config.js';
import { buildHttpApi } from './http-api.js';
import { pinoLogLevel } from './logger.js';

/** Lambda entry point of the HTTP API (composition root). */
const config = loadConfig(process.env);
if (!config.managementApiUrl) {
  throw new ConfigError('environment variable MANAGEMENT_API_URL is required by the HTTP API to publish');
}
if (!config.websocketUrl) {
  throw new ConfigError('environment variable WEBSOCKET_URL is required by the HTTP API for the chat page');
}
const relay = createRelayFactory(config)(config.managementApiUrl);

const level = pinoLogLevel(process.env);

// Fastify makes the request inside this invocation's async context, where the Lambda request id is.
const invocation = new AsyncLocalStorage<string | undefined>();
const app = buildHttpApi({
  relay,
  websocketUrl: config.websocketUrl,
  publishToken: config.publishToken,
  logger: { level },
  requestId: () => invocation.getStore(),
});
const proxy = awsLambdaFastify(app);

/** Logs carry the Lambda request id, the one in Lambda's START / END / REPORT lines and in Powertools' logs. */
export const handler: typeof proxy = (event, context) =>
  invocation.run(context?.awsRequestId, () => proxy(event, context));
await app.ready();
