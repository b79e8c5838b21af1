import { DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { startDevServer } from '../../../src/local/dev-server.js';
import { connectClient } from '../../helpers/ws-client.js';

/** A fixture chat service and how its clients talk. */
export interface ChatApp {
  configPath: string;
  /** Handshake headers of the client named `user` (an authorizer's identity source). */
  headers?: (user: string) => Record<string, string>;
  /** What everyone receives when `user` sends `data`. */
  delivered?: (user: string, data: string) => string;
}

/** What happened, for the test to assert (the scenario also runs in a child under `unshare -n`). */
export interface ChatOutcome {
  /** Frames each client received, in order. */
  received: { alice: unknown[]; bob: unknown[] };
  /** Whether the stale connection's record was still in the table after the broadcasts. */
  staleRemains: boolean;
  /** Connection records left once both clients closed ($disconnect removes them). */
  recordsAfterClose: number;
  /** host:port of every connection the fixture's handlers opened. */
  sandboxConnections: string[];
  /** What the emulator logged (failed routes, refused connections). */
  log: string[];
}

/** A connection id in API Gateway's shape whose socket never existed: @connections answers 410. */
export const STALE_CONNECTION_ID = 'staleConnection=';

/**
 * Runs the fixture under the dev server: two real WebSocket clients chat while a stale record
 * sits in the table, then both leave. Throws when a frame does not arrive.
 */
export async function runChat(app: ChatApp): Promise<ChatOutcome> {
  const sandboxConnections: string[] = [];
  const log: string[] = [];
  const server = await startDevServer({
    configPath: app.configPath,
    stage: 'local',
    httpPort: 0,
    wsPort: 0,
    http: false,
    log: (message) => log.push(message),
    onSandboxConnection: (_fn, target) => sandboxConnections.push(target),
  });
  const dynamo = new DynamoDBClient({
    region: server.service.region,
    endpoint: server.dynamodbEndpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  try {
    const table = server.service.tables[0]!.properties as {
      TableName: string;
      KeySchema: { AttributeName: string }[];
    };
    const key = (id: string) => ({ [table.KeySchema[0]!.AttributeName]: { S: id } });
    const url = `${server.wsUrl}/${server.service.stage}`;
    const alice = await connectClient(url, { headers: app.headers?.('alice') ?? {} });
    const bob = await connectClient(url, { headers: app.headers?.('bob') ?? {} });
    await dynamo.send(new PutItemCommand({ TableName: table.TableName, Item: key(STALE_CONNECTION_ID) }));

    alice.send({ action: 'sendmessage', data: 'hello from alice' });
    const first = [await alice.next(10_000), await bob.next(10_000)];
    bob.send({ action: 'sendmessage', data: 'hi from bob' });
    const second = [await alice.next(10_000), await bob.next(10_000)];

    const staleRemains = await eventually(
      async () =>
        (await dynamo.send(new GetItemCommand({ TableName: table.TableName, Key: key(STALE_CONNECTION_ID) }))).Item !==
        undefined,
      false,
    );
    await Promise.all([alice.close(), bob.close()]);
    const recordsAfterClose = await eventually(
      async () => (await dynamo.send(new ScanCommand({ TableName: table.TableName }))).Count ?? -1,
      0,
    );
    return {
      received: { alice: [first[0], second[0]], bob: [first[1], second[1]] },
      staleRemains,
      recordsAfterClose,
      sandboxConnections,
      log,
    };
  } finally {
    dynamo.destroy();
    await server.close();
  }
}

/** Polls `read` until it returns `wanted` or 5 s pass; returns the last value read. */
async function eventually<T>(read: () => Promise<T>, wanted: T): Promise<T> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const value = await read();
    if (value === wanted || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
