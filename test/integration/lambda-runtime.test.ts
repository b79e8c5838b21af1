import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RelayError } from '../../src/core/index.js';
import { FunctionShutDownError, SandboxExitError } from '../../src/local/errors.js';
import { FunctionTimeoutError, type LocalFunction, loadFunction } from '../../src/local/lambda-runtime.js';
import { createMemoryProbes, type MemoryProbes } from '../../src/local/memory-probe.js';
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
  const load = async (handler: string, maxConcurrency = 2, timeoutSeconds = 5, memory?: MemoryProbes) => {
    const fn = await loadFunction(definition(handler, timeoutSeconds), {
      serviceDir,
      region: 'us-east-1',
      baseEnv: {},
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
});
