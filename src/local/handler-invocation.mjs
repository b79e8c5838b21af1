// Runs one invocation as the Lambda Node.js runtime does (Runtime.js, CallbackContext.js):
// the handler always gets (event, context, callback); the first of callback, context.succeed /
// fail / done or the returned promise to complete wins; a synchronous throw is an error.

/** Resources a worker holds while it waits for work: the event loop is otherwise empty. */
const IDLE_RESOURCES = new Set(['MessagePort', 'CloseReq']);

/**
 * Resolves with the result (undefined becomes null, as Lambda serializes it) or rejects.
 * A handler that returns neither a promise nor calls back completes with null once the event
 * loop is empty, as on Lambda; callback results are taken at once (a documented deviation:
 * Lambda waits for an empty event loop unless callbackWaitsForEmptyEventLoop is false).
 */
export function invokeHandler(handler, event, baseContext) {
  return new Promise((resolve, reject) => {
    let finished = false;
    let idleWatch;
    const finish = (error, result) => {
      if (finished) return;
      finished = true;
      clearInterval(idleWatch);
      if (error !== null && error !== undefined) reject(error);
      else resolve(result === undefined ? null : result);
    };
    const callback = (error, result) => finish(error, result);
    const context = {
      ...baseContext,
      callbackWaitsForEmptyEventLoop: true,
      succeed: (result) => finish(null, result),
      fail: (error) => finish(error ?? 'handled', null),
      done: (error, result) => finish(error, result),
    };
    let returned;
    try {
      returned = handler(event, context, callback);
    } catch (error) {
      return finish(error ?? new Error(`handler threw ${error}`));
    }
    if (returned && typeof returned.then === 'function') {
      returned.then(
        (result) => finish(null, result),
        (error) => finish(error ?? new Error('handler rejected with no reason')),
      );
      return;
    }
    // Called back already (synchronously): there is nothing left to watch.
    if (finished) return;
    // Neither a promise nor (yet) a callback: complete with null once nothing else is pending.
    idleWatch = setInterval(() => {
      if (process.getActiveResourcesInfo().every((resource) => IDLE_RESOURCES.has(resource))) finish(null, null);
    }, 10);
    idleWatch.unref();
  });
}
