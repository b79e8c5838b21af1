import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { Logger } from '../core/index.js';
import { ConfigError } from './env-settings.js';

/**
 * Powertools for AWS Lambda's Logger: one JSON line per entry with level, timestamp, service,
 * and, once `addContext(context)` ran, the request id, function and cold start. The level comes
 * from AWS_LAMBDA_LOG_LEVEL (Lambda's advanced logging controls), else POWERTOOLS_LOG_LEVEL or
 * LOG_LEVEL, else INFO. Error objects anywhere in an entry keep their stack and cause.
 */
export function createLambdaLogger(): PowertoolsLogger {
  return new PowertoolsLogger({ serviceName: 'edge-relay' });
}

/** The core's Logger port on a Powertools logger: `details` become keys of the line. */
export function loggerPort(logger: PowertoolsLogger): Logger {
  return {
    info: (message, details) => (details ? logger.info(message, details) : logger.info(message)),
    warn: (message, details) => (details ? logger.warn(message, details) : logger.warn(message)),
    error: (message, details) => (details ? logger.error(message, details) : logger.error(message)),
  };
}

/** Powertools' levels; the HTTP API's Fastify (pino) logger gets the same one, under pino's name. */
const PINO_LEVEL_FOR: Record<string, string> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  error: 'error',
  critical: 'fatal',
  silent: 'silent',
};

/**
 * The level Powertools reads (AWS_LAMBDA_LOG_LEVEL, POWERTOOLS_LOG_LEVEL, LOG_LEVEL, else INFO), as pino's
 * name: one reading for both loggers, so a function's two kinds of log lines never disagree.
 */
export function pinoLogLevel(env: Record<string, string | undefined>): string {
  const names = ['AWS_LAMBDA_LOG_LEVEL', 'POWERTOOLS_LOG_LEVEL', 'LOG_LEVEL'];
  const name = names.find((candidate) => env[candidate]);
  const raw = name ? env[name]! : 'INFO';
  const level = PINO_LEVEL_FOR[raw.toLowerCase()];
  if (!level) {
    const allowed = Object.keys(PINO_LEVEL_FOR).join(', ').toUpperCase();
    throw new ConfigError(`environment variable ${name} must be one of ${allowed}, got "${raw}"`);
  }
  return level;
}
