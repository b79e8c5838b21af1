import { readdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TABLE_LAYOUT } from '../../src/aws/dynamo-store.js';
import { loadServiceDefinition } from '../../src/local/serverless-config.js';

const service = await loadServiceDefinition(resolve(import.meta.dirname, '../../serverless.yml'), {
  stage: 'prod',
  env: {},
});

describe('infra/connections-table.yml', () => {
  const table = service.tables.find((t) => t.logicalId === 'ConnectionsTable')!;
  const p = table.properties as any;

  it('declares the keys and TTL attribute the store relies on, and no index it does not use', () => {
    expect(p.KeySchema).toEqual([
      { AttributeName: TABLE_LAYOUT.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_LAYOUT.sortKey, KeyType: 'RANGE' },
    ]);
    expect(p.GlobalSecondaryIndexes).toBeUndefined();
    expect(p.TimeToLiveSpecification).toEqual({ AttributeName: TABLE_LAYOUT.ttlAttribute, Enabled: true });
  });

  it('is never scanned: every read of the service is a GetItem or a Query on a key', async () => {
    const root = resolve(import.meta.dirname, '../../src');
    const files = (await readdir(root, { recursive: true })).filter((file) => file.endsWith('.ts'));
    const scanning: string[] = [];
    for (const file of files) {
      if (/\bScan(Command|Input)?\b|paginateScan/.test(await readFile(resolve(root, file), 'utf8')))
        scanning.push(file);
    }
    expect(files.length).toBeGreaterThan(10);
    expect(scanning).toEqual([]);
  });

  it('is on-demand, recoverable, and named per stage', () => {
    expect(p.BillingMode).toBe('PAY_PER_REQUEST');
    expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(p.TableName).toBe('edge-relay-prod-connections');
  });

  it('is what the functions are told to use', () => {
    for (const fn of Object.values(service.functions)) {
      expect(fn.environment.CONNECTIONS_TABLE).toBe('edge-relay-prod-connections');
    }
  });
});
