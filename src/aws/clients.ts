import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type Clock, createRelay, type Relay, type Sender } from '../core/index.js';
import type { RelayConfig } from './config.js';
import { createDynamoStore } from './dynamo-store.js';
import type { DynamoApi } from './dynamodb-api.js';
import { createDynamoHttpApi } from './dynamodb-http-api.js';
import { sdkDynamoApi } from './dynamodb-sdk-api.js';
import { jsonLogger } from './logger.js';
import { createManagementSender } from './management-sender.js';
import { createSignedHttpSender } from './signed-http-sender.js';

const systemClock: Clock = { now: () => Date.now() };

/** Static credentials for local endpoints; on AWS the SDK's default provider chain is used. */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Builds relays for one cold start: one DynamoDB client, one Management API sender per endpoint. */
export function createRelayFactory(
  config: RelayConfig,
  credentials?: Credentials,
): (managementEndpoint: string) => Relay {
  const dynamo: DynamoApi =
    config.dynamodbClient === 'sdk'
      ? sdkDynamoApi(new DynamoDBClient({ region: config.region, endpoint: config.dynamodbEndpoint, credentials }))
      : createDynamoHttpApi({ region: config.region, endpoint: config.dynamodbEndpoint, credentials });
  const store = createDynamoStore({ dynamo, tableName: config.connectionsTable, clock: systemClock });
  const relays = new Map<string, Relay>();

  return (managementEndpoint) => {
    let relay = relays.get(managementEndpoint);
    if (!relay) {
      const sender: Sender =
        config.managementSender === 'sdk'
          ? createManagementSender(
              new ApiGatewayManagementApiClient({ region: config.region, endpoint: managementEndpoint, credentials }),
            )
          : createSignedHttpSender({
              endpoint: managementEndpoint,
              region: config.region,
              credentials,
              maxSockets: config.fanoutConcurrency,
            });
      relay = createRelay({
        store,
        sender,
        clock: systemClock,
        logger: jsonLogger,
        fanoutConcurrency: config.fanoutConcurrency,
      });
      relays.set(managementEndpoint, relay);
    }
    return relay;
  };
}
