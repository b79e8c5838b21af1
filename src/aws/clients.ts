import type { AwsCredentialIdentity } from '@smithy/types';
import { createRelay, type Logger, type Relay, type Sender, systemClock } from '../core/index.js';
import type { RelayConfig } from './config.js';
import { createDynamoClient } from './dynamo-client.js';
import { createDynamoStore } from './dynamo-store.js';
import { createLambdaLogger, loggerPort } from './logger.js';
import { createManagementSender } from './management-sender.js';
import { createSignedHttpSender } from './signed-http-sender.js';

/**
 * Builds relays for one cold start: one DynamoDB client, one Management API sender per endpoint.
 * `credentials` are for local endpoints; on AWS the SDK's default provider chain is used.
 */
export function createRelayFactory(
  config: RelayConfig,
  credentials?: AwsCredentialIdentity,
  logger: Logger = loggerPort(createLambdaLogger()),
): (managementEndpoint: string) => Relay {
  const store = createDynamoStore({
    client: createDynamoClient(config, credentials),
    tableName: config.connectionsTable,
    clock: systemClock,
  });
  const relays = new Map<string, Relay>();

  return (managementEndpoint) => {
    let relay = relays.get(managementEndpoint);
    if (!relay) {
      const options = { endpoint: managementEndpoint, region: config.region, credentials };
      const sender: Sender =
        config.managementSender === 'sdk'
          ? createManagementSender(options)
          : createSignedHttpSender({ ...options, maxSockets: config.fanoutConcurrency });
      relay = createRelay({
        store,
        sender,
        clock: systemClock,
        logger,
        fanoutConcurrency: config.fanoutConcurrency,
        namespaces: config.namespaces,
        maxSubscriptions: config.maxSubscriptions,
      });
      relays.set(managementEndpoint, relay);
    }
    return relay;
  };
}
