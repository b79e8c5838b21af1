import { describe, expect, it } from 'vitest';
import { FunctionTimeoutError } from '../../src/local/errors.js';
import { failedResultLine, thrownErrorLine } from '../../src/local/invocation-log.js';

describe('invocation log lines', () => {
  it('an error status (>= 400) is one line with route, function, status and body', () => {
    expect(failedResultLine('sendmessage', 'send', { statusCode: 500, body: 'Failed:\n  GoneException' })).toBe(
      'sendmessage (function send) returned 500: Failed: GoneException',
    );
    expect(failedResultLine('$connect', 'connect', { statusCode: 403 })).toBe(
      '$connect (function connect) returned 403: (no body)',
    );
    expect(failedResultLine('r', 'f', { statusCode: 400, body: { error: 'bad' } })).toBe(
      'r (function f) returned 400: {"error":"bad"}',
    );
  });

  it('a success, a redirect or no result at all is no line', () => {
    for (const result of [{ statusCode: 200, body: 'ok' }, { statusCode: 302 }, undefined, null, 'text']) {
      expect(failedResultLine('r', 'f', result)).toBeUndefined();
    }
  });

  it('a long body is cut, saying how long it was', () => {
    const line = failedResultLine('r', 'f', { statusCode: 500, body: 'x'.repeat(2_000) })!;
    expect(line.length).toBeLessThan(600);
    expect(line).toMatch(/x… \(2000 characters\)$/);
  });

  it("a handler's error keeps its stack, without the sandbox's own frames", () => {
    const error = new TypeError('cannot read properties of undefined');
    error.stack = [
      'TypeError: cannot read properties of undefined',
      '    at broadcast (file:///app/handler.js:12:5)',
      '    at runHandler (file:///emulator/src/local/lambda-worker.mjs:60:3)',
    ].join('\n');
    expect(thrownErrorLine('broadcast', 'broadcast', error)).toBe(
      'broadcast (function broadcast) failed: TypeError: cannot read properties of undefined\n' +
        '    at broadcast (file:///app/handler.js:12:5)',
    );
  });

  it("the emulator's own errors and thrown non-errors are their message alone", () => {
    expect(thrownErrorLine('slow', 'slow', new FunctionTimeoutError('slow', 1))).toBe(
      'slow (function slow) failed: Task timed out after 1.00 seconds',
    );
    expect(thrownErrorLine('r', 'f', 'plain string')).toBe('r (function f) failed: plain string');
  });
});
