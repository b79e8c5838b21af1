import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { tableName } from './cloudformation-intrinsics.js';
import type { TableDeclaration } from './serverless-config.js';

export interface EmbeddedDynamo {
  endpoint: string;
  close(): Promise<void>;
}

/** Starts dynalite in this process: in memory, or persisted to `path`. */
export async function startEmbeddedDynamo(options: { path?: string; port?: number } = {}): Promise<EmbeddedDynamo> {
  const server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
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

/** The CreateTable call CloudFormation would make for an AWS::DynamoDB::Table resource. */
export function toCreateTableInput({ logicalId, properties }: TableDeclaration): CreateTableCommandInput {
  const onDemand = properties.BillingMode === 'PAY_PER_REQUEST';
  const throughput = onDemand ? {} : { ProvisionedThroughput: properties.ProvisionedThroughput ?? { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } };
  const indexes = (properties.GlobalSecondaryIndexes ?? []) as Record<string, unknown>[];
  return {
    TableName: tableName(logicalId, properties),
    AttributeDefinitions: properties.AttributeDefinitions,
    KeySchema: properties.KeySchema,
    BillingMode: onDemand ? 'PAY_PER_REQUEST' : 'PROVISIONED',
    ...throughput,
    ...(indexes.length > 0 && {
      GlobalSecondaryIndexes: indexes.map(({ IndexName, KeySchema, Projection, ProvisionedThroughput }) => ({
        IndexName, KeySchema, Projection,
        ...(onDemand ? {} : { ProvisionedThroughput: ProvisionedThroughput ?? { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } }),
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
  throw new Error(`table ${name} did not become ACTIVE`);
}
