import { type ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { ConnectionGoneError, type Sender } from '../core/index.js';

/** Sender on the API Gateway Management API; GoneException (410) → ConnectionGoneError. */
export function createManagementSender(client: ApiGatewayManagementApiClient): Sender {
  return {
    async send(connectionId, payload) {
      try {
        await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: payload }));
      } catch (error) {
        // Compare by name: a second copy of the SDK in a bundle breaks instanceof.
        if ((error as { name?: unknown }).name === 'GoneException') {
          throw new ConnectionGoneError(connectionId, { cause: error });
        }
        throw error;
      }
    },
  };
}
