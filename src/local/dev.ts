import { parseDevOptions, USAGE, UsageError } from './cli-options.js';
import { PortInUseError, startDevServer } from './dev-server.js';
import { FunctionLoadError } from './errors.js';
import { ServiceConfigError } from './service-config-error.js';

/** `npm run dev`: parse options, start everything, print where it is, stop cleanly on Ctrl-C. */
async function main(): Promise<void> {
  const options = parseDevOptions(process.argv.slice(2), process.env);
  if (!options) {
    console.log(USAGE);
    return;
  }
  const server = await startDevServer(options);
  const { service } = server;
  console.log(`Edge Relay dev server (${service.service}, stage ${service.stage}) is ready:`);
  if (server.httpUrl) console.log(`  chat page and HTTP API  ${server.httpUrl}`);
  console.log(`  WebSocket API           ${server.wsUrl}`);
  console.log(`  Management API          ${server.managementUrl}/@connections/{connectionId}`);
  console.log(
    `  DynamoDB                ${server.dynamodbEndpoint}${options.dynamodbPath ? ` (persisted in ${options.dynamodbPath})` : ' (in memory)'}`,
  );
  console.log(`  routes                  ${service.routes.map((route) => route.routeKey).join(' ')}`);
  // `npm run bench` asks for a full collection and a memory report before each reading.
  process.on(
    'SIGUSR2',
    () => void server.collectGarbage().then((memory) => console.log(`memory ${JSON.stringify(memory)}`)),
  );
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  // Mistakes the user can fix get one line; anything else is a bug and keeps its stack.
  if (
    error instanceof UsageError ||
    error instanceof PortInUseError ||
    error instanceof ServiceConfigError ||
    error instanceof FunctionLoadError
  ) {
    console.error(`error: ${error.message}`);
  } else {
    console.error(error);
  }
  process.exit(1);
});
