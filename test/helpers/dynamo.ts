import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDeclaredTables, type EmbeddedDynamo, startEmbeddedDynamo } from '../../src/local/dynamodb.js';
import { loadServiceDefinition } from '../../src/local/serverless-config.js';

/** An embedded dynalite with the project's declared tables, reached through the real SDK client. */
export async function startTestDynamo(): Promise<{
  dynamo: EmbeddedDynamo;
  client: DynamoDBClient;
  tableName: string;
}> {
  const dynamo = await startEmbeddedDynamo();
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const service = await loadServiceDefinition(resolve(import.meta.dirname, '../../serverless.yml'), {
    stage: 'test',
    env: {},
  });
  const [tableName] = await createDeclaredTables(client, service.tables);
  return { dynamo, client, tableName: tableName! };
}
