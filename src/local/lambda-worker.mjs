// One Lambda "sandbox": a worker thread that loads one handler and runs one invocation at a
// time, with its own process.env and module state, like a Lambda execution environment.
// Plain JavaScript because it runs before the TypeScript loader is registered.
import { randomUUID } from 'node:crypto';
import { Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { installAwsRedirect } from './aws-redirect.mjs';
import { invokeHandler } from './handler-invocation.mjs';
import { answerMemoryProbes } from './memory-probe-thread.mjs';
import { installSdkResolver } from './sdk-resolver.mjs';

/**
 * @type {{ appRoot: string, handler: string, functionName: string, functionArn: string, memoryMB: number,
 *   redirect?: import('./aws-redirect.mjs').RedirectOptions, traceConnections?: boolean }}
 */
const config = workerData;

answerMemoryProbes(parentPort);
// Everything below is in place before the handler's module runs, as the runtime is on Lambda.
if (config.traceConnections) traceConnections();
if (config.redirect) installAwsRedirect(config.redirect);
const [{ register: registerEsm }, { register: registerCjs }] = await Promise.all([
  import('tsx/esm/api'),
  import('tsx/cjs/api'),
]);
registerEsm();
registerCjs();
installSdkResolver();
const { loadHandler } = await import('./handler-loader.mjs');

let handler;
try {
  handler = await loadHandler(config.appRoot, config.handler);
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
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const result = await invokeHandler(handler, event, context);
    // Lambda returns the result as JSON: Dates become strings, functions disappear.
    // A bare function or symbol serializes to nothing: null, as Lambda returns it.
    parentPort.postMessage({ type: 'result', id, result: JSON.parse(JSON.stringify(result) ?? 'null') });
  } catch (error) {
    parentPort.postMessage({ type: 'result', id, error: serialize(error) });
  }
});

/** Tells the sandbox's owner every TCP host:port this thread connects to (net, tls, undici alike). */
function traceConnections() {
  const connect = Socket.prototype.connect;
  Socket.prototype.connect = function tracedConnect(...args) {
    // net.connect passes its arguments normalized as [options, callback].
    const first = Array.isArray(args[0]) ? args[0][0] : args[0];
    const options = typeof first === 'object' && first !== null ? first : { port: first, host: args[1] };
    // A Unix socket (options.path) cannot leave the machine.
    if (options.path === undefined) {
      const host = typeof options.host === 'string' ? options.host : 'localhost';
      parentPort.postMessage({ type: 'connection', target: `${host}:${options.port}` });
    }
    return connect.apply(this, args);
  };
}

function serialize(error) {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: typeof error === 'string' ? error : JSON.stringify(error) };
}
