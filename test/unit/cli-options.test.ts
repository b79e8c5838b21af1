import { describe, expect, it } from 'vitest';
import { parseDevOptions, UsageError } from '../../src/local/cli-options.js';

describe('npm run dev options', () => {
  it('reads ports from flags before the environment, and limits from flags', () => {
    const options = parseDevOptions(['--ws-port', '4001', '--idle-timeout', '30', '--max-frame-bytes', '65536'], {
      HTTP_PORT: '4000',
      WS_PORT: '9',
    })!;
    expect(options).toMatchObject({
      httpPort: 4000,
      wsPort: 4001,
      limits: { idleTimeoutSeconds: 30, maxFrameBytes: 65536 },
    });
  });

  it('passes each --param="key=value" on, in order, as serverless deploy takes them', () => {
    const options = parseDevOptions(['--param', 'publishToken=s3cret', '--param=days=30'], {})!;
    expect(options.params).toEqual(['publishToken=s3cret', 'days=30']);
    expect(parseDevOptions([], {})!.params).toBeUndefined();
  });

  it('--aws-credentials: fake local credentials unless inherit is asked for', () => {
    expect(parseDevOptions([], {})!.awsCredentials).toBe('local');
    expect(parseDevOptions(['--aws-credentials', 'inherit'], {})!.awsCredentials).toBe('inherit');
    expect(parseDevOptions(['--aws-credentials=local'], {})!.awsCredentials).toBe('local');
  });

  it.each([
    [['--aws-credentials', 'mine'], /--aws-credentials must be local or inherit, got "mine"/],
    [['--param', 'novalue'], /--param must look like --param="key=value", got "novalue"/],
    [['--param', 'key='], /--param must look like/],
    [['--http-port', '70000'], /--http-port \/ HTTP_PORT must be a port number/],
    [['--idle-timeout', '0'], /--idle-timeout must be a positive number/],
    [['--idle-timeout', '9999999999'], /--idle-timeout must be at most 2147483 seconds/],
    [['--max-concurrency', '0'], /--max-concurrency must be a positive integer/],
    [['--no-such-flag'], /no-such-flag/],
  ])('%j is refused with a message naming the option', (argv, message) => {
    expect(() => parseDevOptions(argv, {})).toThrow(UsageError);
    expect(() => parseDevOptions(argv, {})).toThrow(message);
  });
});
