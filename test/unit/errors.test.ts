import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/aws/config.js';
import { UnprocessedWritesError } from '../../src/aws/dynamo-store.js';
import { AwsHttpError } from '../../src/aws/signed-http.js';
import { ConnectionGoneError, InvalidMessageError, RelayError } from '../../src/core/index.js';

describe('one error hierarchy', () => {
  it.each([
    ['ConnectionGoneError', () => new ConnectionGoneError('c1')],
    ['InvalidMessageError', () => new InvalidMessageError('invalid_json', 'the frame is not valid JSON')],
    ['ConfigError', () => new ConfigError('environment variable X is required but not set')],
    ['UnprocessedWritesError', () => new UnprocessedWritesError('table', 3)],
  ])('%s extends RelayError and names itself', (name, make) => {
    const error = make();
    expect(error).toBeInstanceOf(RelayError);
    expect(error.name).toBe(name);
    expect(String(error)).toMatch(new RegExp(`^${name}: `));
  });

  it("an AWS error answer is a RelayError named with AWS's error type, as the SDK names it", () => {
    const error = new AwsHttpError('PayloadTooLargeException', 413, 'too big');
    expect(error).toBeInstanceOf(RelayError);
    expect(error).toMatchObject({ name: 'PayloadTooLargeException', $metadata: { httpStatusCode: 413 } });
  });

  it('keeps the cause it was given', () => {
    const cause = new AwsHttpError('GoneException', 410, '');
    expect(new ConnectionGoneError('c1', { cause }).cause).toBe(cause);
  });
});

describe("the emulator's errors, under the same root", () => {
  it('every error class src/local exports names itself after its class', async () => {
    const modules = await Promise.all([
      import('../../src/local/errors.js'),
      import('../../src/local/service-config-error.js'),
      import('../../src/local/cli-options.js'),
    ]);
    const classes = modules.flatMap((module) =>
      Object.entries(module).filter(
        ([, value]) => typeof value === 'function' && value.prototype instanceof RelayError,
      ),
    ) as [string, new (...args: unknown[]) => Error][];
    expect(classes.length).toBeGreaterThanOrEqual(8);
    for (const [exported, ErrorClass] of classes) {
      // The constructors take a name, then numbers or strings; the values do not matter for the name.
      const error = new ErrorClass('fn', 1, 2);
      expect({ exported, name: error.name }).toEqual({ exported, name: exported });
    }
  });
});
