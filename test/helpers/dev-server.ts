import { resolve } from 'node:path';
import { type DevServer, type DevServerOptions, startDevServer } from '../../src/local/dev-server.js';

/** The project's own serverless.yml. */
export const PROJECT_CONFIG = resolve(import.meta.dirname, '../../serverless.yml');

/** Starts the dev server on free ports with an in-memory DynamoDB, quietly. */
export function startTestServer(overrides: Partial<DevServerOptions> = {}): Promise<DevServer> {
  const messages: string[] = [];
  return startDevServer({
    configPath: PROJECT_CONFIG,
    httpPort: 0,
    wsPort: 0,
    log: (message) => messages.push(message),
    ...overrides,
  });
}
