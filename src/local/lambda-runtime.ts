import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
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
}

type Handler = (event: unknown, context: unknown, callback?: (error: unknown, result?: unknown) => void) => unknown;

const MODULE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs', '.cjs'];

/** Imports the module named by `handler` (path.export) and wraps it with a Lambda context and timeout. */
export async function loadFunction(definition: FunctionDefinition, serviceDir: string, region: string): Promise<LocalFunction> {
  const dot = definition.handler.lastIndexOf('.');
  const modulePath = definition.handler.slice(0, dot);
  const exportName = definition.handler.slice(dot + 1);
  const file = MODULE_EXTENSIONS.map((ext) => resolve(serviceDir, modulePath + ext)).find((candidate) => existsSync(candidate));
  if (!file) {
    throw new Error(`function ${definition.name}: handler module ${modulePath} not found in ${serviceDir} (tried ${MODULE_EXTENSIONS.join(', ')})`);
  }
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const handler = module[exportName];
  if (typeof handler !== 'function') {
    throw new Error(`function ${definition.name}: ${file} does not export a function named ${exportName}`);
  }
  return {
    name: definition.name,
    invoke: (event) => invokeWithTimeout(handler as Handler, event, definition, region),
  };
}

function invokeWithTimeout(handler: Handler, event: unknown, definition: FunctionDefinition, region: string): Promise<unknown> {
  const timeoutMs = definition.timeoutSeconds * 1000;
  const deadline = Date.now() + timeoutMs;
  const context = {
    awsRequestId: randomUUID(),
    functionName: definition.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${definition.name}`,
    memoryLimitInMB: '1024',
    logGroupName: `/aws/lambda/${definition.name}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new FunctionTimeoutError(definition.name, definition.timeoutSeconds)), timeoutMs);
    const settle = (error: unknown, result?: unknown) => {
      clearTimeout(timer);
      if (error) reject(error);
      else resolvePromise(result);
    };
    try {
      // Callback-style handlers declare three parameters; async ones return a promise.
      const returned = handler.length >= 3 ? handler(event, context, settle) : handler(event, context);
      if (handler.length < 3) Promise.resolve(returned).then((result) => settle(undefined, result), settle);
    } catch (error) {
      settle(error);
    }
  });
}
