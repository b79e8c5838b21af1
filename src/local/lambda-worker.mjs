// One Lambda "sandbox": a worker thread that loads one handler and runs one invocation at a
// time, with its own process.env and module state, like a Lambda execution environment.
// Plain JavaScript because it runs before the TypeScript loader is registered.
import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { answerMemoryProbes } from './memory-probe-thread.mjs';

answerMemoryProbes(parentPort);
const { register } = await import('tsx/esm/api');
register();

/** @type {{ file: string, exportName: string, functionName: string, functionArn: string, memoryMB: number }} */
const config = workerData;

let handler;
try {
  const module = await import(config.file);
  handler = module[config.exportName];
  if (typeof handler !== 'function')
    throw new Error(`${config.file} does not export a function named ${config.exportName}`);
  parentPort.postMessage({ type: 'ready' });
} catch (error) {
  parentPort.postMessage({ type: 'load-failed', error: serialize(error) });
}

parentPort.on('message', async ({ type, id, event, deadline }) => {
  if (type !== 'invoke') return;
  const context = {
    awsRequestId: randomUUID(),
    functionName: config.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: config.functionArn,
    memoryLimitInMB: String(config.memoryMB),
    logGroupName: `/aws/lambda/${config.functionName}`,
    logStreamName: `local/${process.pid}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const result = await runHandler(event, context);
    // Lambda returns the result as JSON: Dates become strings, functions disappear.
    parentPort.postMessage({
      type: 'result',
      id,
      result: result === undefined ? undefined : JSON.parse(JSON.stringify(result)),
    });
  } catch (error) {
    parentPort.postMessage({ type: 'result', id, error: serialize(error) });
  }
});

/** Async handlers return a promise; callback-style handlers declare a third parameter. */
function runHandler(event, context) {
  if (handler.length < 3) return Promise.resolve().then(() => handler(event, context));
  return new Promise((resolve, reject) => {
    const returned = handler(event, context, (error, result) => (error ? reject(error) : resolve(result)));
    if (returned && typeof returned.then === 'function') returned.then(resolve, reject);
  });
}

function serialize(error) {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: typeof error === 'string' ? error : JSON.stringify(error) };
}
