import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { Logger } from '../core/index.js';

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

/**
 * The HTTP API's default logger (src/aws/http-api.ts imports it). Remove once that module
 * takes Fastify's own logger.
 */
export const jsonLogger: Logger = loggerPort(createLambdaLogger());
