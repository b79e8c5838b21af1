import { RelayError } from '../core/index.js';

/**
 * The errors the emulator raises on purpose, each under the one root (`RelayError`) with its own
 * `name`: a caller can tell them apart by `name` or `instanceof`.
 */

/** The handler ran past its configured timeout, as Lambda reports it. */
export class FunctionTimeoutError extends RelayError {
  override name = 'FunctionTimeoutError';
  constructor(
    readonly functionName: string,
    timeoutSeconds: number,
  ) {
    super(`Task timed out after ${timeoutSeconds.toFixed(2)} seconds`);
  }
}

/** A function's handler cannot be found or loaded; the message says what was tried. */
export class FunctionLoadError extends RelayError {
  override name = 'FunctionLoadError';
  constructor(
    readonly functionName: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`function ${functionName}: ${detail}`, options);
  }
}

/** A sandbox ended (an uncaught error, `process.exit()`) while it ran an invocation or loaded. */
export class SandboxExitError extends RelayError {
  override name = 'SandboxExitError';
  constructor(
    readonly functionName: string,
    readonly exitCode: number,
  ) {
    super(`function ${functionName}: sandbox exited with code ${exitCode}`);
  }
}

/** An invocation of a function that is shutting down or shut down. */
export class FunctionShutDownError extends RelayError {
  override name = 'FunctionShutDownError';
  constructor(readonly functionName: string) {
    super(`function ${functionName} is shut down`);
  }
}

/** A route names a function the emulator has not loaded (yet). */
export class FunctionNotLoadedError extends RelayError {
  override name = 'FunctionNotLoadedError';
  constructor(readonly functionName: string) {
    super(`function ${functionName} is not loaded`);
  }
}

/** A route selection expression the emulator cannot evaluate. */
export class RouteSelectionError extends RelayError {
  override name = 'RouteSelectionError';
}

/** The embedded DynamoDB did not start, or a declared table did not become usable. */
export class EmbeddedDynamoError extends RelayError {
  override name = 'EmbeddedDynamoError';
}

/** A port already taken; the message names the port and the setting that changes it. */
export class PortInUseError extends RelayError {
  override name = 'PortInUseError';
  constructor(port: number, setting: string) {
    super(`port ${port} is already in use: stop what uses it or choose another with ${setting}`);
  }
}
