import type { WebSocketResult } from '../aws/websocket-event.js';
import { describeError, RelayError } from '../core/index.js';

/** A body longer than this is cut in the log line: enough to read an error message, not a page. */
const MAX_LOGGED_BODY = 500;

/**
 * The line for a route whose handler answered with an error status (>= 400), as the AWS samples
 * do when a broadcast fails; undefined for a success. On AWS that status reaches no one unless the
 * route has a route response, so without this line the failure is silent.
 */
export function failedResultLine(routeKey: string, functionName: string, result: unknown): string | undefined {
  const { statusCode, body } = (result ?? {}) as Partial<WebSocketResult>;
  if (typeof statusCode !== 'number' || statusCode < 400) return undefined;
  return `${routeKey} (function ${functionName}) returned ${statusCode}: ${oneLine(body)}`;
}

/**
 * The line (and the stack under it) for a handler that threw. The emulator's own errors (a
 * timeout, a sandbox that exited, a function not loaded) say all there is in their message.
 */
export function thrownErrorLine(routeKey: string, functionName: string, error: unknown): string {
  return `${routeKey} (function ${functionName}) failed: ${handlerStack(error)}`;
}

function handlerStack(error: unknown): string {
  // The emulator's own messages read as Lambda's ("Task timed out after 3.00 seconds").
  if (error instanceof RelayError) return error.message;
  if (!(error instanceof Error) || !error.stack) return describeError(error);
  // The sandbox's frames below the handler are the emulator's, not the user's.
  const frames = error.stack.split('\n').filter((line) => !/(?:lambda-worker|handler-invocation)\.mjs/.test(line));
  // A stack starts with the message; keep the error's name in front, as Lambda's logs show it.
  return frames[0]!.startsWith(error.name) ? frames.join('\n') : `${describeError(error)}\n${frames.join('\n')}`;
}

function oneLine(body: unknown): string {
  if (body === undefined) return '(no body)';
  const text = (typeof body === 'string' ? body : JSON.stringify(body)).replace(/\s*\n\s*/g, ' ');
  return text.length > MAX_LOGGED_BODY ? `${text.slice(0, MAX_LOGGED_BODY)}… (${text.length} characters)` : text;
}
