import { Worker } from 'node:worker_threads';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { tableName } from './cloudformation-intrinsics.js';
import { EmbeddedDynamoError } from './errors.js';
import type { MemoryProbes } from './memory-probe.js';
import type { TableDeclaration } from './serverless-config.js';

export interface EmbeddedDynamo {
  endpoint: string;
  close(): Promise<void>;
}

export interface EmbeddedDynamoOptions {
  /** Persist to this folder instead of memory. */
  path?: string;
  port?: number;
  /** Counts dynalite's thread in memory readings. */
  memory?: MemoryProbes;
}

/** Starts dynalite in this process, on a thread of its own: in memory, or persisted to `path`. */
export async function startEmbeddedDynamo(options: EmbeddedDynamoOptions = {}): Promise<EmbeddedDynamo> {
  const worker = new Worker(new URL('./dynalite-worker.mjs', import.meta.url), {
    workerData: { path: options.path, port: options.port ?? 0 },
  });
  let running = true;
  const exited = new Promise((resolve) =>
    worker.once('exit', () => {
      running = false;
      resolve(undefined);
    }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (message: { type: string; port?: number; message?: string }) => {
      if (message.type === 'listening') resolve(message.port!);
      else reject(new EmbeddedDynamoError(`embedded DynamoDB could not start: ${message.message}`));
    });
    worker.once('error', reject);
    void exited.then(() => reject(new EmbeddedDynamoError('embedded DynamoDB stopped while starting')));
  }).catch(async (error: unknown) => {
    // A thread that failed to start must not outlive the failure.
    await worker.terminate();
    throw error;
  });
  options.memory?.watch(worker);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      if (running) worker.postMessage('close');
      await exited;
    },
  };
}

/**
 * Creates the tables declared in serverless.yml / infra/ unless they exist. TTL and point-in-time
 * recovery are not applied: dynalite has neither, and readers filter expired items anyway.
 */
export async function createDeclaredTables(client: DynamoDBClient, tables: TableDeclaration[]): Promise<string[]> {
  const created: string[] = [];
  for (const table of tables) {
    const input = toCreateTableInput(table);
    try {
      await client.send(new CreateTableCommand(input));
      created.push(input.TableName!);
    } catch (error) {
      if ((error as Error).name !== 'ResourceInUseException') throw error;
    }
    await waitUntilActive(client, input.TableName!);
  }
  return created;
}

/** CloudFormation's throughput for a provisioned table or index that names none. */
const DEFAULT_THROUGHPUT = { ReadCapacityUnits: 5, WriteCapacityUnits: 5 };

/** The CreateTable call CloudFormation would make for an AWS::DynamoDB::Table resource. */
function toCreateTableInput({ logicalId, properties }: TableDeclaration): CreateTableCommandInput {
  const onDemand = properties.BillingMode === 'PAY_PER_REQUEST';
  const throughput = onDemand ? {} : { ProvisionedThroughput: properties.ProvisionedThroughput ?? DEFAULT_THROUGHPUT };
  const indexes = (properties.GlobalSecondaryIndexes ?? []) as Record<string, unknown>[];
  return {
    TableName: tableName(logicalId, properties),
    AttributeDefinitions: properties.AttributeDefinitions,
    KeySchema: properties.KeySchema,
    BillingMode: onDemand ? 'PAY_PER_REQUEST' : 'PROVISIONED',
    ...throughput,
    ...(indexes.length > 0 && {
      GlobalSecondaryIndexes: indexes.map(({ IndexName, KeySchema, Projection, ProvisionedThroughput }) => ({
        IndexName,
        KeySchema,
        Projection,
        ...(onDemand ? {} : { ProvisionedThroughput: ProvisionedThroughput ?? DEFAULT_THROUGHPUT }),
      })),
    }),
    ...(properties.LocalSecondaryIndexes !== undefined && { LocalSecondaryIndexes: properties.LocalSecondaryIndexes }),
  } as CreateTableCommandInput;
}

async function waitUntilActive(client: DynamoDBClient, name: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new EmbeddedDynamoError(`table ${name} did not become ACTIVE`);
}
