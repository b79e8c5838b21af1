import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { websocketHandler } from '../../src/aws/handlers/invocation.js';
import { createLambdaLogger, loggerPort, pinoLogLevel } from '../../src/aws/logger.js';
import { websocketEvent } from '../fixtures/websocket-event.js';

/** A Lambda context as the runtime passes it (the fields Powertools reads). */
const lambdaContext = (awsRequestId: string) =>
  ({
    awsRequestId,
    functionName: 'edge-relay-dev-message',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:edge-relay-dev-message',
    memoryLimitInMB: '1024',
  }) as unknown as Context;

/** The JSON lines written to stdout and stderr while the test runs. */
function captureLines(): Record<string, any>[] {
  const lines: Record<string, any>[] = [];
  const keep = (chunk: unknown) => {
    for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(keep);
  vi.spyOn(process.stderr, 'write').mockImplementation(keep);
  return lines;
}

describe('Lambda logs (Powertools Logger)', () => {
  beforeEach(() => {
    for (const name of ['AWS_LAMBDA_LOG_LEVEL', 'POWERTOOLS_LOG_LEVEL', 'LOG_LEVEL', 'POWERTOOLS_DEV']) {
      vi.stubEnv(name, undefined);
    }
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it('writes one JSON line per entry, the details as keys, at INFO and above by default', () => {
    const lines = captureLines();
    const logger = loggerPort(createLambdaLogger());

    logger.info('hello', { connectionId: 'c1' });
    logger.warn('careful');

    expect(lines).toEqual([
      expect.objectContaining({ level: 'INFO', message: 'hello', connectionId: 'c1', service: 'edge-relay' }),
      expect.objectContaining({ level: 'WARN', message: 'careful' }),
    ]);
    expect(lines[0]!.timestamp).toEqual(expect.any(String));
  });

  it('takes its level from LOG_LEVEL', () => {
    vi.stubEnv('LOG_LEVEL', 'WARN');
    const lines = captureLines();
    const logger = loggerPort(createLambdaLogger());

    logger.info('dropped');
    logger.warn('kept');

    expect(lines.map((line) => line.message)).toEqual(['kept']);
  });

  it("takes its level from AWS_LAMBDA_LOG_LEVEL (Lambda's advanced logging controls) above LOG_LEVEL", () => {
    vi.stubEnv('LOG_LEVEL', 'DEBUG');
    vi.stubEnv('AWS_LAMBDA_LOG_LEVEL', 'ERROR');
    const lines = captureLines();
    const logger = loggerPort(createLambdaLogger());

    logger.warn('dropped');
    logger.error('kept');

    expect(lines.map((line) => line.message).filter((message) => !message.includes('Advanced Logging'))).toEqual([
      'kept',
    ]);
  });

  it('keeps the stack and the cause of an error in the details', () => {
    const lines = captureLines();
    const logger = loggerPort(createLambdaLogger());
    const error = new Error('send failed', { cause: new Error('socket reset') });

    logger.warn('delivery failed', { connectionId: 'c1', error });

    expect(lines[0]!.error).toMatchObject({
      name: 'Error',
      message: 'send failed',
      stack: expect.stringContaining('lambda-logs.test.ts'),
      cause: { name: 'Error', message: 'socket reset', stack: expect.any(String) },
    });
  });
});

describe('websocketHandler: one invocation of a route', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it('logs with the request id, cold start only the first time, and the connection and route', async () => {
    // Lambda sets it; Powertools reports a cold start only for on-demand environments.
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
    const lines = captureLines();
    const logger = createLambdaLogger();
    const handler = websocketHandler(logger, async () => {
      logger.info('working');
      return { statusCode: 200 };
    });

    await handler(websocketEvent(), lambdaContext('req-1'));
    await handler(websocketEvent(), lambdaContext('req-2'));

    expect(lines).toEqual([
      expect.objectContaining({
        message: 'working',
        function_request_id: 'req-1',
        cold_start: true,
        function_name: 'edge-relay-dev-message',
        connectionId: 'TXzPWdnOjoECGjA=',
        routeKey: 'sendmessage',
      }),
      expect.objectContaining({ message: 'working', function_request_id: 'req-2', cold_start: false }),
    ]);
  });

  it('logs a failure with its stack and cause, then rethrows it', async () => {
    const lines = captureLines();
    const failure = new Error('store down', { cause: new Error('ECONNRESET') });
    const handler = websocketHandler(createLambdaLogger(), async () => {
      throw failure;
    });

    await expect(handler(websocketEvent(), lambdaContext('req-3'))).rejects.toBe(failure);

    expect(lines).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        message: 'invocation failed',
        function_request_id: 'req-3',
        error: expect.objectContaining({ message: 'store down', stack: expect.any(String), cause: expect.anything() }),
      }),
    ]);
  });

  it("forgets one invocation's connection before the next, and runs without a context (as tests call it)", async () => {
    const lines = captureLines();
    const logger = createLambdaLogger();
    const handler = websocketHandler(logger, async () => ({ statusCode: 200 }));

    await handler(websocketEvent());
    logger.info('between invocations');

    expect(lines).toEqual([expect.not.objectContaining({ connectionId: expect.anything() })]);
  });
});

describe('the HTTP API logger level', () => {
  it('is the level Powertools reads, in pino words', () => {
    expect(pinoLogLevel({})).toBe('info');
    expect(pinoLogLevel({ LOG_LEVEL: 'CRITICAL' })).toBe('fatal');
    expect(pinoLogLevel({ POWERTOOLS_LOG_LEVEL: 'debug', LOG_LEVEL: 'ERROR' })).toBe('debug');
    expect(pinoLogLevel({ AWS_LAMBDA_LOG_LEVEL: 'WARN', POWERTOOLS_LOG_LEVEL: 'DEBUG' })).toBe('warn');
  });

  it('names the variable that holds a level no logger knows', () => {
    expect(() => pinoLogLevel({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL must be one of .*CRITICAL.*got "loud"/);
  });
});
