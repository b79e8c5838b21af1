import { type Connections, createConnections, systemClock } from '../../core/index.js';
import { loadConfig, type RelayConfig } from '../config.js';
import { createDynamoClient } from '../dynamo-client.js';
import { createDynamoStore } from '../dynamo-store.js';

/**
 * The composition root of $connect: the store alone. It imports no sender, undici or Management
 * API client, so its bundle carries none of them ($disconnect does: it sends leave events).
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
