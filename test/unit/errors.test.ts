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
