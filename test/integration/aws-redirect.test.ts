import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFunction } from '../../src/local/lambda-runtime.js';

/** A local stand-in that records what reached it and answers 200. */
async function recorder(): Promise<{ server: Server; port: number; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((request, response) => {
    seen.push(`${request.method} ${request.headers.host} ${request.url}`);
    request.resume();
    request.on('end', () => response.end('{}'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

describe('inside a sandbox, AWS hostnames reach the local services', () => {
  let management: Awaited<ReturnType<typeof recorder>>;
  let dynamodb: Awaited<ReturnType<typeof recorder>>;
  beforeAll(async () => {
    [management, dynamodb] = await Promise.all([recorder(), recorder()]);
  });
  afterAll(() => {
    management.server.close();
    dynamodb.server.close();
  });

  it("this API's execute-api host, DynamoDB's (regional, account, China): fetch, https.request and get", async () => {
    const connections: string[] = [];
    const fn = await loadFunction(
      {
        name: 'redirect',
        deployedName: 'svc-local-redirect',
        handler: 'redirect.handler',
        timeoutSeconds: 10,
        memorySize: 128,
        environment: {},
        servesHttp: false,
      },
      {
        serviceDir: resolve(import.meta.dirname, '../fixtures/sandbox'),
        region: 'us-east-1',
        baseEnv: {},
        maxConcurrency: 1,
        redirect: { apiId: 'local', wsPort: management.port, dynamodb: `http://127.0.0.1:${dynamodb.port}` },
        onConnection: (_fn, target) => connections.push(target),
      },
    );
    try {
      const results = (await fn.invoke({
        urls: {
          mgmt: 'https://local.execute-api.us-east-1.amazonaws.com/local/@connections/abc',
          loopback: `https://127.0.0.1:${management.port}/local/@connections/def`,
          ddb: 'https://dynamodb.us-east-1.amazonaws.com/',
          account: 'https://123456789012.ddb.us-east-1.amazonaws.com/',
          china: 'https://dynamodb.cn-north-1.amazonaws.com.cn/',
          // .invalid never resolves: a test must not reach a real AWS host if the check fails.
          otherApi: 'https://other.execute-api.us-east-1.invalid/local/@connections/x',
        },
      })) as Record<string, unknown>;

      for (const name of ['mgmt', 'loopback', 'ddb', 'account', 'china']) {
        for (const how of ['fetch', 'https', 'get']) expect(results[`${how} ${name}`], `${how} ${name}`).toBe(200);
      }
      // Another API's host is left alone: it goes to DNS.
      for (const how of ['fetch', 'https', 'get']) expect(results[`${how} otherApi`]).not.toBe(200);
      expect(management.seen).toContain('POST local.execute-api.us-east-1.amazonaws.com /local/@connections/abc');
      expect(management.seen).toContain('GET local.execute-api.us-east-1.amazonaws.com /local/@connections/abc');
      expect(dynamodb.seen).toContain('POST 123456789012.ddb.us-east-1.amazonaws.com /');
      expect(management.seen).toHaveLength(6);
      expect(dynamodb.seen).toHaveLength(9);
      expect(connections.filter((target) => !target.startsWith('127.0.0.1:'))).toEqual(
        expect.arrayContaining(['other.execute-api.us-east-1.invalid:443']),
      );
    } finally {
      await fn.close();
    }
  });
});
