/** Runs one invocation as Lambda's Node.js runtime does: callback, context.succeed/fail/done or a promise. */
export function invokeHandler(
  handler: (
    event: unknown,
    context: Record<string, unknown>,
    callback: (error?: unknown, result?: unknown) => void,
  ) => unknown,
  event: unknown,
  baseContext: Record<string, unknown>,
): Promise<unknown>;
