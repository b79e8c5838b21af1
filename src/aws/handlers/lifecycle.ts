import { type Connections, createConnections, systemClock } from '../../core/index.js';
import { loadConfig, type RelayConfig } from '../config.js';
import { createDynamoClient } from '../dynamo-client.js';
import { createDynamoStore } from '../dynamo-store.js';

/**
 * The composition root of $connect and $disconnect: the store alone. Neither imports the sender,
 * undici or the Management API client, so their bundles carry none of them.
 */
export function lifecycleFromEnvironment(): { config: RelayConfig; connections: Connections } {
  const config = loadConfig(process.env);
  const store = createDynamoStore({
    client: createDynamoClient(config),
    tableName: config.connectionsTable,
    clock: systemClock,
  });
  return { config, connections: createConnections({ store, clock: systemClock }) };
}
