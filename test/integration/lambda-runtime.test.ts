import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RelayError } from '../../src/core/index.js';
import { FunctionLoadError, FunctionShutDownError, SandboxExitError } from '../../src/local/errors.js';
import { FunctionTimeoutError, type LocalFunction, loadFunction } from '../../src/local/lambda-runtime.js';
import { createMemoryProbes, type MemoryProbes } from '../../src/local/memory-probe.js';
import { sandboxEnvironment } from '../../src/local/sandbox-env.js';
import type { FunctionDefinition } from '../../src/local/serverless-config.js';

const serviceDir = resolve(import.meta.dirname, '../fixtures/sandbox');

function definition(handler: string, timeoutSeconds = 2): FunctionDefinition {
  return {
    name: 'probe',
    deployedName: 'svc-dev-probe',
    handler,
    timeoutSeconds,
    memorySize: 128,
    environment: {},
    servesHttp: false,
  };
}

describe('Lambda-like sandboxes (worker threads)', () => {
  const loaded: LocalFunction[] = [];
  const load = async (
    handler: string,
    maxConcurrency = 2,
    timeoutSeconds = 5,
    memory?: MemoryProbes,
    { dir = serviceDir, baseEnv = {} }: { dir?: string; baseEnv?: Record<string, string | undefined> } = {},
  ) => {
    const fn = await loadFunction(definition(handler, timeoutSeconds), {
      serviceDir: dir,
      region: 'us-east-1',
      baseEnv,
      maxConcurrency,
      memory,
    });
    loaded.push(fn);
    return fn;
  };
  afterEach(async () => {
    await Promise.all(loaded.splice(0).map((fn) => fn.close()));
  });

  it('keeps a warm sandbox between invocations, and starts another for overlapping ones', async () => {
    const fn = await load('handlers.countSlowly');
    expect(await fn.invoke({})).toEqual({ invocations: 1 });
    expect(await fn.invoke({})).toEqual({ invocations: 2 });
    // The first holds the warm sandbox long enough that the second must cold-start another.
    const overlapping = await Promise.all([fn.invoke({ ms: 3_000 }), fn.invoke({})]);
    // One ran in the warm sandbox (its 3rd call), the other in a new one (its 1st).
    expect(overlapping.map((r: any) => r.invocations).sort()).toEqual([1, 3]);
  });

  it('a sandbox that dies after returning is replaced: the next invocation cold-starts', async () => {
    const crashing = await load('handlers.crashAfterReturning', 1);
    const first = await crashing.invoke({});
    await new Promise((r) => setTimeout(r, 200));
    // Handed to the dead sandbox, it would time out; in a new one, its count starts again.
    const second = await crashing.invoke({});

    expect(first).toEqual({ invocations: 1 });
    expect(second).toEqual({ invocations: 1 });
  });

  it('process.exit() in a handler fails that invocation only', async () => {
    const fn = await load('handlers.exitNow', 1);
    await expect(fn.invoke({})).rejects.toThrow(/exited with code 3/);
    const error = await fn.invoke({}).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SandboxExitError);
    expect(error).toBeInstanceOf(RelayError);
    expect(error).toMatchObject({ name: 'SandboxExitError', exitCode: 3 });
  });

  it("a timed-out invocation fails with Lambda's message and its sandbox is discarded", async () => {
    const fn = await load('handlers.sleep', 1, 0.3);
    const error = await fn.invoke({ ms: 2_000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FunctionTimeoutError);
    expect(error).toBeInstanceOf(RelayError);
    expect(error).toMatchObject({ name: 'FunctionTimeoutError', message: 'Task timed out after 0.30 seconds' });
    expect(await fn.invoke({ ms: 1 })).toEqual({ slept: 1 });
  });

  it('queues invocations beyond maxConcurrency instead of starting more sandboxes', async () => {
    const fn = await load('handlers.sleep', 1);
    const started = Date.now();
    await Promise.all([fn.invoke({ ms: 200 }), fn.invoke({ ms: 200 })]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
  });

  it('close() rejects invocations in flight and waiting, and later ones', async () => {
    const fn = await load('handlers.sleep', 1);
    const running = fn.invoke({ ms: 1_000 }).catch((error: Error) => error);
    const queued = fn.invoke({ ms: 1 }).catch((error: Error) => error);
    await new Promise((r) => setTimeout(r, 50));

    await fn.close();

    expect(await running).toMatchObject({ message: expect.stringMatching(/shut down/) });
    expect(await queued).toMatchObject({ message: expect.stringMatching(/shut down/) });
    await expect(fn.invoke({ ms: 1 })).rejects.toThrow(FunctionShutDownError);
  });

  it('returns results as JSON, as Lambda does', async () => {
    const fn = await load('handlers.richResult');
    expect(await fn.invoke({})).toEqual({ at: '1970-01-01T00:00:00.000Z', n: 1 });
  });

  it('a module that ends the process while loading fails the load with a clear error', async () => {
    await expect(load('exits-on-load.handler')).rejects.toThrow(/exited with code 1/);
  });

  it("memory probes count each sandbox's thread until it is stopped", async () => {
    const memory = createMemoryProbes();
    const fn = await load('handlers.hold', 1, 5, memory);
    const before = await memory.report();

    await fn.invoke({ bytes: 32 * 1024 * 1024 });
    const holding = await memory.report();
    await fn.close();
    const after = await memory.report();

    expect(holding.retainedBytes - before.retainedBytes).toBeGreaterThan(30 * 1024 * 1024);
    expect(holding.retainedBytes - after.retainedBytes).toBeGreaterThan(30 * 1024 * 1024);
  });

  describe('handlers load and complete as on Lambda', () => {
    it.each([
      ['styles/cjs/index.default', { n: 1 }, { statusCode: 200, body: 'default:1' }],
      ['styles/cjs/index.nested.deeper.fn', {}, { statusCode: 200, body: 'nested' }],
      ['styles/cjs/index.connect', { n: 2 }, { statusCode: 200, body: 'callback:2' }],
      ['styles/cjs/index.callbackWins', {}, { body: 'from callback' }],
      ['styles/cjs/index.succeed', {}, { body: 'succeed' }],
      ['styles/cjs/index.done', {}, { body: 'done' }],
      ['styles/cjs/index.nothing', {}, null],
      ['styles/cjs/index.syncReturn', {}, null],
      ['styles/esm-type/index.handler', {}, { statusCode: 200, body: 'esm:undefined' }],
      ['styles/mjs/app.handler', {}, { statusCode: 200, body: 'mjs' }],
      ['styles/mjs/app.default', {}, { statusCode: 200, body: 'mjs-default' }],
      ['handlers.count', {}, { invocations: 1 }],
    ])('%s', async (handler, event, expected) => {
      const fn = await load(handler);
      expect(await fn.invoke(event)).toEqual(expected);
    });

    it('context.fail and callback(error) fail the invocation with that error', async () => {
      await expect((await load('styles/cjs/index.fail')).invoke({})).rejects.toThrow('failed on purpose');
      await expect((await load('styles/cjs/index.callbackError')).invoke({})).rejects.toThrow('callback error');
    });

    it.each([
      ['styles/cjs/index.missing', /handler "styles\/cjs\/index.missing": missing is undefined or not exported/],
      ['styles/cjs/index.notAFunction', /notAFunction in .*index.js is not a function/],
      ['styles/cjs/nofile.handler', /handler "styles\/cjs\/nofile.handler": module nofile not found in .*styles\/cjs/],
      ['noDot', /"noDot" is not a valid handler name/],
      ['../outside.handler', /is not a valid handler name/],
    ])(
      '%s fails to load with a line naming the function, the handler and what is missing',
      async (handler, message) => {
        const error = await load(handler).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(FunctionLoadError);
        expect((error as Error).message).toMatch(/^function probe: /);
        expect((error as Error).message).toMatch(message);
      },
    );
  });

  describe('outside any node_modules, as a handler uploaded without dependencies', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'sdk-fallback-'));
      writeFileSync(
        join(dir, 'esm.mjs'),
        [
          "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';",
          "import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';",
          'export const handler = async () => typeof DynamoDBDocumentClient.from(new DynamoDBClient({})).send;',
        ].join('\n'),
      );
      writeFileSync(
        join(dir, 'cjs.js'),
        [
          "const { ApiGatewayManagementApiClient } = require('@aws-sdk/client-apigatewaymanagementapi');",
          'exports.handler = async () => typeof ApiGatewayManagementApiClient;',
        ].join('\n'),
      );
      writeFileSync(join(dir, 'sqs.mjs'), "import '@aws-sdk/client-sqs';\nexport const handler = async () => 1;\n");
      writeFileSync(join(dir, 'lib.js'), "require('left-pad');\nexports.handler = async () => 1;\n");
      writeFileSync(join(dir, 'v2.js'), "require('aws-sdk');\nexports.handler = async () => 1;\n");
      writeFileSync(
        join(dir, 'optional.js'),
        "exports.handler = async () => { try { require('optional-native'); } catch (e) { return e.message; } };\n",
      );
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const loadFrom = (handler: string) => load(handler, 1, 5, undefined, { dir });

    it("@aws-sdk/* comes from the emulator, as Lambda's runtime provides SDK v3 (import and require)", async () => {
      expect(await (await loadFrom('esm.handler')).invoke({})).toBe('function');
      expect(await (await loadFrom('cjs.handler')).invoke({})).toBe('function');
    });

    it("a package probed and caught by the handler's code keeps Node's own error", async () => {
      expect(await (await loadFrom('optional.handler')).invoke({})).toMatch(/^Cannot find module 'optional-native'/);
    });

    it.each([
      ['sqs.handler', /package @aws-sdk\/client-sqs is not installed.*Lambda's Node.js runtime provides it/],
      ['lib.handler', /package left-pad is not installed.*provides only the AWS SDK v3 \(@aws-sdk\/\*\)/],
      ['v2.handler', /package aws-sdk is not installed.*, not aws-sdk v2/],
    ])('%s: a missing package fails the load with a line naming it', async (handler, message) => {
      await expect(loadFrom(handler)).rejects.toThrow(message);
    });
  });

  describe('credentials', () => {
    let dir: string;
    let developer: Record<string, string>;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'aws-profile-'));
      writeFileSync(join(dir, 'config'), '[profile dev]\nregion = eu-west-1\n');
      writeFileSync(
        join(dir, 'credentials'),
        '[dev]\naws_access_key_id = AKIAREALDEVELOPERKEY\naws_secret_access_key = realsecret\n',
      );
      developer = {
        PATH: process.env.PATH ?? '',
        AWS_PROFILE: 'dev',
        AWS_CONFIG_FILE: join(dir, 'config'),
        AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
        AWS_SESSION_TOKEN: 'real-session-token',
        AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/real',
        AWS_WEB_IDENTITY_TOKEN_FILE: join(dir, 'token'),
        AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.2/creds',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      };
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const envFor = (credentials: 'local' | 'inherit') =>
      sandboxEnvironment(developer, {
        region: 'us-east-1',
        credentials,
        dynamodbEndpoint: 'http://127.0.0.1:1',
        managementUrl: 'http://127.0.0.1:2',
      });

    it("by default a handler sees none of the developer's profile, keys or role settings", async () => {
      const fn = await load('styles/cjs/index.credentials', 1, 5, undefined, { baseEnv: envFor('local') });
      const { env, accessKeyId } = (await fn.invoke({})) as { env: Record<string, string>; accessKeyId: string };

      expect(accessKeyId).toBe('local');
      expect(env.AWS_PROFILE).toBeUndefined();
      expect(env.AWS_ROLE_ARN).toBeUndefined();
      expect(env.AWS_WEB_IDENTITY_TOKEN_FILE).toBeUndefined();
      expect(env.AWS_CONTAINER_CREDENTIALS_FULL_URI).toBeUndefined();
      expect(env.AWS_SESSION_TOKEN).toBe('local');
      expect(JSON.stringify(env)).not.toContain(dir);
    });

    it('--aws-credentials inherit passes them through', async () => {
      const fn = await load('styles/cjs/index.credentials', 1, 5, undefined, { baseEnv: envFor('inherit') });
      const { env, accessKeyId } = (await fn.invoke({})) as { env: Record<string, string>; accessKeyId: string };

      expect(accessKeyId).toBe('AKIAREALDEVELOPERKEY');
      expect(env.AWS_PROFILE).toBe('dev');
    });
  });
});
