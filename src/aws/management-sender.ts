import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { ConnectionGoneError, type Sender } from '../core/index.js';
import { closeConnectionWithRetries } from './close-retries.js';
import { deliveryRetries, isGoneAnswer } from './delivery-retries.js';
import { withRetries } from './retry.js';
import { REQUEST_TIMEOUTS_MS } from './signed-http.js';

export interface ManagementSenderOptions {
  /** e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/prod */
  endpoint: string;
  region: string;
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Attempts for throttling (429) and requests that never left. */
  maxAttempts?: number;
}

/**
 * Sender on the SDK's ApiGatewayManagementApiClient (MANAGEMENT_SENDER=sdk), with the lean
 * sender's delivery semantics: the client makes one attempt per send (its standard retries
 * would send again after a 5xx or a reset, which may have been delivered) and deliveryRetries
 * decides, as for the lean sender; DeleteConnection retries as closeRetries says, as for the lean
 * sender. GoneException (410) → ConnectionGoneError.
 */
export function createManagementSender(options: ManagementSenderOptions): Sender & { destroy(): void } {
  const client = new ApiGatewayManagementApiClient({
    endpoint: options.endpoint,
    region: options.region,
    credentials: options.credentials,
    maxAttempts: 1,
    // The lean sender's timeouts: a hung socket must not hold the fan-out until the Lambda times out.
    requestHandler: { connectionTimeout: REQUEST_TIMEOUTS_MS.connect, requestTimeout: REQUEST_TIMEOUTS_MS.response },
  });
  const retries = deliveryRetries(options.maxAttempts);
  return {
    async send(connectionId, payload) {
      try {
        await withRetries(
          () => client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: payload })),
          retries,
        );
      } catch (error) {
        throw goneOr(connectionId, error);
      }
    },
    close(connectionId) {
      return closeConnectionWithRetries(async () => {
        try {
          await client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
        } catch (error) {
          throw goneOr(connectionId, error);
        }
      }, options.maxAttempts);
    },
    destroy: () => client.destroy(),
  };
}

/**
 * ConnectionGoneError for the SDK's GoneException, else the SDK's error. Compared by name: a second
 * copy of the SDK in a bundle breaks instanceof. A 410 is gone whether or not the error type header
 * made it through, as for the lean sender.
 */
function goneOr(connectionId: string, error: unknown): unknown {
  const { name, $metadata } = error as { name?: unknown; $metadata?: { httpStatusCode?: number } };
  return isGoneAnswer($metadata?.httpStatusCode, name)
    ? new ConnectionGoneError(connectionId, { cause: error })
    : error;
}
