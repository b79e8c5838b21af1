import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { locateHandler } from './handler-path.js';
import { localArn } from './local-account.js';
import type { FunctionDefinition } from './serverless-config.js';

/** The handler ran past its configured timeout, as Lambda reports it. */
export class FunctionTimeoutError extends Error {
  constructor(
    readonly functionName: string,
    timeoutSeconds: number,
  ) {
    super(`Task timed out after ${timeoutSeconds.toFixed(2)} seconds`);
    this.name = 'FunctionTimeoutError';
  }
}

/** A function of the service, invocable like Lambda invokes it. */
export interface LocalFunction {
  name: string;
  invoke(event: unknown): Promise<unknown>;
  /** Stops every sandbox; invocations in flight or waiting are rejected. */
  close(): Promise<void>;
  /** A full garbage collection in every sandbox; resolves with the bytes they still hold. */
  collectGarbage(): Promise<number>;
}

export interface RuntimeOptions {
  serviceDir: string;
  region: string;
  /** Environment every sandbox starts from (the function's own settings are added on top). */
  baseEnv: Record<string, string | undefined>;
  /** Sandboxes per function: concurrent invocations beyond this wait for a free one. */
  maxConcurrency: number;
}

interface Invocation {
  id: number;
  resolve(result: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

interface Sandbox {
  worker: Worker;
  busy: boolean;
  dead: boolean;
  current?: Invocation;
  /** Waiting for a memory report after a collection. */
  onMemory?: (bytes: number) => void;
}

interface Waiter {
  resolve(sandbox: Sandbox): void;
  reject(error: Error): void;
}

interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

const WORKER_ENTRY = new URL('./lambda-worker.mjs', import.meta.url);
const YOUNG_GENERATION_MB = 8;

/**
 * Runs a function like Lambda does: each sandbox (a worker thread with its own environment and
 * module state) handles one invocation at a time, more sandboxes start as invocations overlap,
 * and a sandbox that times out or dies is thrown away. Handlers thus use the machine's cores and
 * a CPU-bound handler never stalls the emulator's sockets.
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
  const workerData = {
    file: pathToFileURL(file).href,
    exportName,
    functionName: definition.deployedName,
    functionArn: localArn('lambda', options.region, `function:${definition.deployedName}`),
    memoryMB: definition.memorySize,
  };
  const timeoutMs = definition.timeoutSeconds * 1000;
  const sandboxes = new Set<Sandbox>();
  const waiting: Waiter[] = [];
  let starting = 0;
  let closed = false;
  let nextId = 0;

  /** A cold start: resolves once the handler module is loaded. */
  const start = (): Promise<Sandbox> =>
    new Promise((resolve, reject) => {
      const worker = new Worker(WORKER_ENTRY, {
        env,
        workerData,
        // The function's memorySize caps its heap, as Lambda caps the sandbox; a small young
        // generation keeps idle sandboxes from holding tens of MB each.
        resourceLimits: {
          maxOldGenerationSizeMb: definition.memorySize,
          maxYoungGenerationSizeMb: YOUNG_GENERATION_MB,
        },
      });
      const sandbox: Sandbox = { worker, busy: false, dead: false };
      let ready = false;
      worker.on(
        'message',
        (message: { type?: string; id?: number; result?: unknown; error?: SerializedError; bytes?: number }) => {
          if (message.type === 'memory') return sandbox.onMemory?.(message.bytes ?? 0);
          if (!ready) {
            if (message.type === 'ready') {
              ready = true;
              return resolve(sandbox);
            }
            void worker.terminate();
            return reject(new Error(`function ${definition.name}: cannot load ${file}: ${message.error?.message}`));
          }
          const invocation = sandbox.current;
          if (!invocation || invocation.id !== message.id) return;
          finish(sandbox, invocation);
          if (message.error) invocation.reject(deserialize(message.error));
          else invocation.resolve(message.result);
        },
      );
      // An uncaught error or process.exit() in a handler ends its sandbox, as on Lambda.
      worker.on('error', (error) => {
        if (!ready) reject(error);
        else retire(sandbox, error);
      });
      worker.on('exit', (code) => {
        const error = new Error(`function ${definition.name}: sandbox exited with code ${code}`);
        if (!ready) reject(error);
        else retire(sandbox, error);
      });
    });

  const launch = (): void => {
    starting++;
    start().then(
      (sandbox) => {
        starting--;
        if (closed) return void sandbox.worker.terminate();
        sandboxes.add(sandbox);
        pump();
      },
      (error: Error) => {
        starting--;
        waiting.shift()?.reject(error);
        pump();
      },
    );
  };

  /** Hands idle sandboxes to waiting invocations and starts new ones while allowed. */
  const pump = (): void => {
    while (waiting.length > 0) {
      const idle = firstIdle(sandboxes);
      if (idle) {
        idle.busy = true;
        waiting.shift()!.resolve(idle);
      } else if (sandboxes.size + starting < options.maxConcurrency && starting < waiting.length) {
        launch();
      } else {
        return;
      }
    }
  };

  const finish = (sandbox: Sandbox, invocation: Invocation): void => {
    clearTimeout(invocation.timer);
    sandbox.current = undefined;
    sandbox.busy = false;
    pump();
  };

  /** Takes a sandbox out of service; its invocation in flight, if any, fails with `error`. */
  const retire = (sandbox: Sandbox, error: Error): void => {
    if (sandbox.dead) return;
    sandbox.dead = true;
    sandboxes.delete(sandbox);
    const invocation = sandbox.current;
    if (invocation) {
      clearTimeout(invocation.timer);
      sandbox.current = undefined;
      invocation.reject(error);
    }
    void sandbox.worker.terminate();
    pump();
  };

  const invoke = async (event: unknown): Promise<unknown> => {
    if (closed) throw new Error(`function ${definition.name} is shut down`);
    const sandbox = await new Promise<Sandbox>((resolve, reject) => {
      waiting.push({ resolve, reject });
      pump();
    });
    return new Promise((resolve, reject) => {
      const id = ++nextId;
      // Lambda stops a timed-out invocation by discarding its environment; so do we.
      const timer = setTimeout(
        () => retire(sandbox, new FunctionTimeoutError(definition.name, definition.timeoutSeconds)),
        timeoutMs,
      );
      sandbox.current = { id, resolve, reject, timer };
      sandbox.worker.postMessage({ id, event, deadline: Date.now() + timeoutMs });
    });
  };

  // One warm sandbox from the start: load errors surface now, and the first request is fast.
  sandboxes.add(await start());

  return {
    name: definition.name,
    invoke,
    async collectGarbage() {
      const reports = [...sandboxes].map(
        (sandbox) =>
          new Promise<number>((resolve) => {
            sandbox.onMemory = resolve;
            sandbox.worker.postMessage({ type: 'gc' });
            setTimeout(() => resolve(0), 2_000).unref();
          }),
      );
      return (await Promise.all(reports)).reduce((sum, bytes) => sum + bytes, 0);
    },
    async close() {
      closed = true;
      const shutDown = new Error(`function ${definition.name} is shut down`);
      for (const waiter of waiting.splice(0)) waiter.reject(shutDown);
      const all = [...sandboxes];
      for (const sandbox of all) retire(sandbox, shutDown);
      await Promise.all(all.map((sandbox) => sandbox.worker.terminate()));
    },
  };
}

/** The longest-running idle sandbox (insertion order): its code is the warmest. */
function firstIdle(sandboxes: Set<Sandbox>): Sandbox | undefined {
  for (const sandbox of sandboxes) if (!sandbox.busy) return sandbox;
  return undefined;
}

function deserialize(serialized: SerializedError): Error {
  const error = new Error(serialized.message);
  error.name = serialized.name;
  if (serialized.stack) error.stack = serialized.stack;
  return error;
}
