import { FunctionShutDownError } from './errors.js';
import { assertHandlerModuleExists } from './handler-path.js';
import { localArn } from './local-account.js';
import type { MemoryProbes } from './memory-probe.js';
import { type Sandbox, type SandboxSpec, type SandboxWorkerData, startSandbox } from './sandbox.js';
import { createSandboxPool } from './sandbox-pool.js';
import type { FunctionDefinition } from './serverless-config.js';

export { FunctionTimeoutError } from './errors.js';

/** A function of the service, invocable like Lambda invokes it. */
export interface LocalFunction {
  name: string;
  invoke(event: unknown): Promise<unknown>;
  /** Stops every sandbox; invocations in flight or waiting are rejected. */
  close(): Promise<void>;
}

export interface RuntimeOptions {
  serviceDir: string;
  region: string;
  /** Environment every sandbox starts from (the function's own settings are added on top). */
  baseEnv: Record<string, string | undefined>;
  /** Sandboxes per function: concurrent invocations beyond this wait for a free one. */
  maxConcurrency: number;
  /** Counts every sandbox's thread in memory readings. */
  memory?: MemoryProbes;
  /** AWS hostnames the sandboxes reach locally (aws-redirect.mjs); nothing is redirected without it. */
  redirect?: SandboxWorkerData['redirect'];
  /** Told every connection a sandbox opens (host:port), e.g. to prove nothing leaves the machine. */
  onConnection?: (functionName: string, target: string) => void;
}

/**
 * Loads a function as Lambda does (the handler's module, its environment and context) and
 * runs it in a pool of sandboxes (sandbox-pool.ts): each a worker thread with its own
 * environment and module state, one invocation at a time, thrown away when it times out or dies.
 * Handlers thus use the machine's cores and a CPU-bound handler never stalls the emulator's sockets.
 */
export async function loadFunction(definition: FunctionDefinition, options: RuntimeOptions): Promise<LocalFunction> {
  // Fails before any sandbox starts when no module file exists; the sandbox checks the export.
  assertHandlerModuleExists(definition.handler, options.serviceDir, definition.name);
  const { onConnection } = options;
  const spec: SandboxSpec = {
    functionName: definition.name,
    env: {
      ...options.baseEnv,
      ...definition.environment,
      AWS_LAMBDA_FUNCTION_NAME: definition.deployedName,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(definition.memorySize),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    },
    workerData: {
      appRoot: options.serviceDir,
      handler: definition.handler,
      functionName: definition.deployedName,
      functionArn: localArn('lambda', options.region, `function:${definition.deployedName}`),
      memoryMB: definition.memorySize,
      redirect: options.redirect,
    },
    ...(onConnection && { onConnection: (target: string) => onConnection(definition.name, target) }),
    memorySizeMb: definition.memorySize,
    timeoutSeconds: definition.timeoutSeconds,
  };
  const pool = await createSandboxPool<Sandbox>({
    maxConcurrency: options.maxConcurrency,
    start: async (gone) => {
      const sandbox = await startSandbox(spec, gone);
      options.memory?.watch(sandbox.worker);
      return sandbox;
    },
    stop: (sandbox, error) => sandbox.stop(error),
    closedError: () => new FunctionShutDownError(definition.name),
  });

  return {
    name: definition.name,
    async invoke(event) {
      const sandbox = await pool.acquire();
      try {
        return await sandbox.invoke(event);
      } finally {
        pool.release(sandbox);
      }
    },
    close: () => pool.close(),
  };
}
