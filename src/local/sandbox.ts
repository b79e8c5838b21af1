import { Worker } from 'node:worker_threads';
import type { RedirectOptions } from './aws-redirect.mjs';
import { FunctionLoadError, FunctionTimeoutError, SandboxExitError } from './errors.js';

/** What a sandbox loads: one handler export, and the context Lambda would give it. */
export interface SandboxSpec {
  functionName: string;
  /** The function's environment, exactly (a sandbox's process.env is its own). */
  env: Record<string, string | undefined>;
  /** Read by lambda-worker.mjs. */
  workerData: SandboxWorkerData;
  /** Told the host:port (or socket path) of every connection the sandbox's code opens. */
  onConnection?: (target: string) => void;
  memorySizeMb: number;
  timeoutSeconds: number;
}

/** What lambda-worker.mjs is started with. */
export interface SandboxWorkerData {
  /** The service's folder: handler strings are relative to it, as to /var/task on Lambda. */
  appRoot: string;
  /** The handler string as serverless.yml writes it (`path/to/module.export`). */
  handler: string;
  functionName: string;
  functionArn: string;
  memoryMB: number;
  /** Where AWS hostnames are redirected to (aws-redirect.mjs); none when absent. */
  redirect?: RedirectOptions;
  /** Report every outgoing connection (SandboxSpec.onConnection). */
  traceConnections?: boolean;
}

/** One execution environment: a worker thread that runs one invocation at a time. */
export interface Sandbox {
  readonly worker: Worker;
  /** False once the sandbox is out of service (it crashed, timed out or was stopped). */
  readonly alive: boolean;
  /**
   * Runs one invocation: resolves with the handler's result (as JSON), rejects with its error,
   * FunctionTimeoutError or SandboxExitError. After the last two the sandbox is gone.
   */
  invoke(event: unknown): Promise<unknown>;
  /** Takes the sandbox out of service; an invocation in flight fails with `error`. */
  stop(error: Error): Promise<void>;
}

interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

interface WorkerMessage {
  type?: string;
  id?: number;
  target?: string;
  result?: unknown;
  error?: SerializedError;
}

interface Invocation {
  id: number;
  resolve(result: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

const WORKER_ENTRY = new URL('./lambda-worker.mjs', import.meta.url);
const YOUNG_GENERATION_MB = 8;

/**
 * A cold start: resolves once the handler module is loaded. `onGone` is called once, at the
 * moment the sandbox leaves service, whatever the reason, so its owner never hands it out again.
 */
export function startSandbox(spec: SandboxSpec, onGone: (sandbox: Sandbox) => void): Promise<Sandbox> {
  const timeoutMs = spec.timeoutSeconds * 1000;
  const worker = new Worker(WORKER_ENTRY, {
    env: spec.env,
    workerData: { ...spec.workerData, traceConnections: spec.onConnection !== undefined },
    // The function's memorySize caps its heap, as Lambda caps the sandbox; a small young
    // generation keeps idle sandboxes from holding tens of MB each.
    resourceLimits: { maxOldGenerationSizeMb: spec.memorySizeMb, maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
  });
  let alive = true;
  let ready = false;
  let current: Invocation | undefined;
  let nextId = 0;

  const stop = (error: Error): Promise<void> => {
    if (alive) {
      alive = false;
      const invocation = current;
      current = undefined;
      if (invocation) {
        clearTimeout(invocation.timer);
        invocation.reject(error);
      }
      onGone(sandbox);
    }
    return worker.terminate().then(() => undefined);
  };

  const sandbox: Sandbox = {
    worker,
    get alive() {
      return alive;
    },
    invoke: (event) =>
      new Promise((resolve, reject) => {
        if (!alive || current) throw new Error('a sandbox runs one invocation at a time, and only while alive');
        const id = ++nextId;
        // Lambda stops a timed-out invocation by discarding its environment; so do we.
        const timer = setTimeout(
          () => void stop(new FunctionTimeoutError(spec.functionName, spec.timeoutSeconds)),
          timeoutMs,
        );
        current = { id, resolve, reject, timer };
        worker.postMessage({ type: 'invoke', id, event, deadline: Date.now() + timeoutMs });
      }),
    stop,
  };

  return new Promise((resolve, reject) => {
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'connection') return spec.onConnection?.(message.target ?? '');
      if (!ready) {
        if (message.type === 'ready') {
          ready = true;
          return resolve(sandbox);
        }
        if (message.type !== 'load-failed') return;
        void stop(new FunctionLoadError(spec.functionName, 'load failed'));
        // The handler's own error, stack included, travels as the cause.
        return reject(
          new FunctionLoadError(spec.functionName, `handler "${spec.workerData.handler}": ${message.error?.message}`, {
            cause: message.error && deserialize(message.error),
          }),
        );
      }
      if (message.type !== 'result' || !current || current.id !== message.id) return;
      const invocation = current;
      current = undefined;
      clearTimeout(invocation.timer);
      if (message.error) invocation.reject(deserialize(message.error));
      else invocation.resolve(message.result);
    });
    // An uncaught error or process.exit() in a handler ends its sandbox, as on Lambda.
    worker.on('error', (error) => {
      if (!ready) reject(error);
      void stop(error);
    });
    worker.on('exit', (code) => {
      const error = new SandboxExitError(spec.functionName, code);
      if (!ready) reject(error);
      void stop(error);
    });
  });
}

function deserialize(serialized: SerializedError): Error {
  const error = new Error(serialized.message);
  error.name = serialized.name;
  if (serialized.stack) error.stack = serialized.stack;
  return error;
}
