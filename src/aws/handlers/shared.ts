import type { Relay } from '../../core/index.js';
import { createRelayFactory } from '../clients.js';
import { loadConfig, managementEndpointFor, type RelayConfig } from '../config.js';
import type { WebSocketEvent, WebSocketRequestContext, WebSocketResult } from '../websocket-event.js';

/**
 * Lambda entry points of the WebSocket API (composition root). serverless.yml names them;
 * the local emulator runs these same exports in its Lambda-like sandboxes.
 */

let config: RelayConfig | undefined;
let relayFor: ((endpoint: string) => Relay) | undefined;

/** Built on first use, once per cold start, so a missing setting fails the first invocation loudly. */
function relay(context: WebSocketRequestContext): Relay {
  config ??= loadConfig(process.env);
  relayFor ??= createRelayFactory(config);
  return relayFor(managementEndpointFor(config, context));
}

const OK: WebSocketResult = { statusCode: 200 };

/** $connect: record the connection in the default room. */
export async function connect(event: WebSocketEvent): Promise<WebSocketResult> {
  const { connectionId, identity, connectedAt } = event.requestContext;
  await relay(event.requestContext).connect({ connectionId, sourceIp: identity.sourceIp, connectedAt });
  return OK;
}

/** $disconnect: forget the connection. API Gateway ignores the result; it may never be called. */
export async function disconnect(event: WebSocketEvent): Promise<WebSocketResult> {
  await relay(event.requestContext).disconnect(event.requestContext.connectionId);
  return OK;
}

/** sendmessage and $default: broadcast a valid frame, answer anything else with an error frame. */
export async function message(event: WebSocketEvent): Promise<WebSocketResult> {
  const body =
    event.isBase64Encoded && event.body !== undefined ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  await relay(event.requestContext).message(event.requestContext.connectionId, body);
  return OK;
}
