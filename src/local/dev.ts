import { RelayError } from '../core/index.js';
import { parseDevOptions, USAGE } from './cli-options.js';
import { startDevServer } from './dev-server.js';

/** `npm run dev`: parse options, start everything, print where it is, stop cleanly on Ctrl-C. */
async function main(): Promise<void> {
  // The SDK's notice that its 2027 releases need Node 22 (README, Quick start); set before any client exists.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const options = parseDevOptions(process.argv.slice(2), process.env);
  if (!options) {
    console.log(USAGE);
    return;
  }
  const server = await startDevServer(options);
  const { service } = server;
  console.log(`Edge Relay dev server (${service.service}, stage ${service.stage}) is ready:`);
  if (server.httpUrl) console.log(`  chat page and HTTP API  ${server.httpUrl}`);
  if (server.httpUrl && server.devTokens) {
    console.log(
      `  dev tokens              POST ${server.httpUrl}/dev/token {"user":"alice"}, or npm run token -- --user alice`,
    );
  }
  console.log(`  WebSocket API           ${server.wsUrl}`);
  console.log(`  Management API          ${server.managementUrl}/@connections/{connectionId}`);
  const storage = options.dynamodbPath ? ` (persisted in ${options.dynamodbPath})` : ' (in memory)';
  console.log(`  DynamoDB                ${server.dynamodbEndpoint}${storage}`);
  console.log(`  routes                  ${service.routes.map((route) => route.routeKey).join(' ')}`);
  // Connections are admitted only now: every function below has loaded.
  const nameWidth = Math.max(...server.functions.map((fn) => fn.name.length));
  server.functions.forEach((fn, index) => {
    const label = index === 0 ? 'functions' : '';
    console.log(`  ${label.padEnd(24)}${fn.name.padEnd(nameWidth)}  loaded in ${fn.loadMs} ms  (${fn.handler})`);
  });
  // `npm run bench` asks for a full collection and a memory report before each reading.
  process.on(
    'SIGUSR2',
    () => void server.collectGarbage().then((memory) => console.log(`memory ${JSON.stringify(memory)}`)),
  );
  const stop = () =>
    void server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  // Errors raised on purpose (options, serverless.yml, handlers that do not load, ports) get one line;
  // anything else is a bug and keeps its stack.
  if (error instanceof RelayError) {
    console.error(`error: ${error.message}`);
  } else {
    console.error(error);
  }
  process.exit(1);
});
