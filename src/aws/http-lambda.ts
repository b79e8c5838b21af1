import awsLambdaFastify from '@fastify/aws-lambda';
import { createRelayFactory } from './clients.js';
import { ConfigError, loadConfig } from './config.js';
import { buildHttpApi } from './http-api.js';

/** Lambda entry point of the HTTP API (composition root). */
const config = loadConfig(process.env);
if (!config.managementApiUrl) {
  throw new ConfigError('environment variable MANAGEMENT_API_URL is required by the HTTP API to publish');
}
if (!config.websocketUrl) {
  throw new ConfigError('environment variable WEBSOCKET_URL is required by the HTTP API for the chat page');
}
const relay = createRelayFactory(config)(config.managementApiUrl);
const app = buildHttpApi({ relay, websocketUrl: config.websocketUrl, publishToken: config.publishToken });

export const handler = awsLambdaFastify(app);
await app.ready();
