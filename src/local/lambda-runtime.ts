import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { locateHandler } from './handler-path.js';
import type { FunctionDefinition } from './serverless-config.js';

/** The handler ran past its configured timeout, as Lambda reports it. */
export class FunctionTimeoutError extends Error {
  constructor(readonly functionName: string, timeoutSeconds: number) {
    super(`Task timed out after ${timeoutSeconds.toFixed(2)} seconds`);
    this.name = 'FunctionTimeoutError';
  }
}

/** A function of the service, invocable like Lambda invokes it. */
export interface LocalFunction {
  name: string;
  invoke(event: unknown): Promise<unknown>;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  serviceDir: string;
  region: string;
  /** Environment every sandbox starts from (the function's own settings are added on top). */
  baseEnv: Record<string, string | undefined>;
  /** Sandboxes per function: concurrent invocations beyond this wait for a free one. */
  maxConcurrency: number;
}

interface Sandbox {
  worker: Worker;
  busy: boolean;
}

const WORKER_ENTRY = new URL('./lambda-worker.mjs', import.meta.url);

/**
 * Runs a function like Lambda does: each sandbox (a worker thread with its own environment and
 * module state) handles one invocation at a time, more sandboxes start as invocations overlap,
 * and a sandbox whose invocation times out is thrown away. Handlers thus use the machine's cores
 * and a CPU-bound handler never stalls the emulator's sockets.
 */
export async function loadFunction(definition: FunctionDefinition, options: RuntimeOptions): Promise<LocalFunction> {
  const { file, exportName } = locateHandler(definition.handler, options.serviceDir, definition.name);
  const env = {
    ...options.baseEnv,
    ...definition.environment,
    AWS_LAMBDA_FUNCTION_NAME: definition.deployedName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(definition.memorySize),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  };
  const sandboxes: Sandbox[] = [];
  const waiting: ((sandbox: Sandbox) => void)[] = [];
  let closed = false;

  const start = (): Promise<Sandbox> => new Promise((resolveSandbox, reject) => {
    const worker = new Worker(WORKER_ENTRY, {
      env,
      workerData: { file: pathToFileURL(file).href, exportName, functionName: definition.deployedName, region: options.region, memoryMB: definition.memorySize },
    });
    worker.once('message', (message: { type: string; error?: SerializedError }) => {
      if (message.type === 'ready') return resolveSandbox({ worker, busy: false });
      void worker.terminate();
      reject(new Error(`function ${definition.name}: cannot load ${file}: ${message.error?.message}`));
    });
    worker.once('error', reject);
  });

  const acquire = async (): Promise<Sandbox> => {
    const idle = sandboxes.find((sandbox) => !sandbox.busy);
    if (idle) {
      idle.busy = true;
      return idle;
    }
    if (sandboxes.length < options.maxConcurrency) {
      // Reserve the slot before the cold start so concurrent callers do not overshoot.
      const placeholder = { busy: true } as Sandbox;
      sandboxes.push(placeholder);
      try {
        const sandbox = await start();
        Object.assign(placeholder, sandbox, { busy: true });
        return placeholder;
      } catch (error) {
        sandboxes.splice(sandboxes.indexOf(placeholder), 1);
        throw error;
      }
    }
    return new Promise((resolveSandbox) => waiting.push(resolveSandbox));
  };

  const release = (sandbox: Sandbox): void => {
    const next = waiting.shift();
    if (next) next(sandbox);
    else sandbox.busy = false;
  };

  const discard = (sandbox: Sandbox): void => {
    sandboxes.splice(sandboxes.indexOf(sandbox), 1);
    void sandbox.worker.terminate();
    // Someone may be waiting for a sandbox that will now never be released.
    const next = waiting.shift();
    if (next) void acquire().then(next);
  };

  let nextId = 0;
  const invoke = async (event: unknown): Promise<unknown> => {
    if (closed) throw new Error(`function ${definition.name} is shut down`);
    const sandbox = await acquire();
    const id = ++nextId;
    const timeoutMs = definition.timeoutSeconds * 1000;
    return new Promise((resolveResult, reject) => {
      const finish = (outcome: { result?: unknown; error?: SerializedError }) => {
        clearTimeout(timer);
        sandbox.worker.off('message', onMessage);
        sandbox.worker.off('error', onCrash);
        sandbox.worker.off('exit', onExit);
        release(sandbox);
        if (outcome.error) reject(deserialize(outcome.error));
        else resolveResult(outcome.result);
      };
      const onMessage = (message: { id: number; result?: unknown; error?: SerializedError }) => {
        if (message.id === id) finish(message);
      };
      const onCrash = (error: Error) => {
        clearTimeout(timer);
        sandbox.worker.off('message', onMessage);
        sandbox.worker.off('error', onCrash);
        sandbox.worker.off('exit', onExit);
        discard(sandbox);
        reject(error);
      };
      // A handler that calls process.exit() ends its sandbox, as it would on Lambda.
      const onExit = (code: number) => onCrash(new Error(`function ${definition.name} exited with code ${code}`));
      // Lambda stops a timed-out invocation by discarding its environment; so do we.
      const timer = setTimeout(() => {
        sandbox.worker.off('message', onMessage);
        sandbox.worker.off('error', onCrash);
        sandbox.worker.off('exit', onExit);
        discard(sandbox);
        reject(new FunctionTimeoutError(definition.name, definition.timeoutSeconds));
      }, timeoutMs);
      sandbox.worker.on('message', onMessage);
      sandbox.worker.once('error', onCrash);
      sandbox.worker.once('exit', onExit);
      sandbox.worker.postMessage({ id, event, deadline: Date.now() + timeoutMs });
    });
  };

  // One warm sandbox from the start: load errors surface now, and the first request is fast.
  const first = await start();
  sandboxes.push(first);

  return {
    name: definition.name,
    invoke,
    async close() {
      closed = true;
      await Promise.all(sandboxes.map((sandbox) => sandbox.worker?.terminate()));
      sandboxes.length = 0;
    },
  };
}

interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

function deserialize(serialized: SerializedError): Error {
  const error = new Error(serialized.message);
  error.name = serialized.name;
  if (serialized.stack) error.stack = serialized.stack;
  return error;
}
