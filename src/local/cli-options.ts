import { type ParseArgsConfig, parseArgs } from 'node:util';
import { RelayError } from '../core/index.js';
import { DEV_DEFAULTS, MAX_TIMER_MS } from './dev-defaults.js';
import type { DevServerOptions } from './dev-server.js';
import { AWS_LIMITS } from './limits.js';
import { AWS_CREDENTIALS_MODES, type AwsCredentialsMode } from './sandbox-env.js';

/** Bad command-line input; the message names the option. */
export class UsageError extends RelayError {
  override name = 'UsageError';
}

export const USAGE = `Usage: npm run dev -- [options]

Runs the service's WebSocket API (API Gateway emulator), its HTTP API and chat page,
and an embedded DynamoDB, all from serverless.yml.

Options:
  --config PATH                   serverless.yml to run            (default: ./serverless.yml)
  --stage NAME                    stage name in events and URLs     (default: ${DEV_DEFAULTS.stage})
  --param "KEY=VALUE"             \${param:KEY} in serverless.yml, as serverless deploy --param (repeatable)
  --http-port PORT                HTTP API and chat page            (env HTTP_PORT, default ${DEV_DEFAULTS.httpPort})
  --ws-port PORT                  WebSocket API and @connections    (env WS_PORT, default ${DEV_DEFAULTS.wsPort})
  --host HOST                     interface to listen on            (default ${DEV_DEFAULTS.host})
  --dynamodb-path DIR             persist the embedded DynamoDB to DIR (default: in memory)
  --idle-timeout SECONDS          close idle connections            (default ${AWS_LIMITS.idleTimeoutSeconds}, as AWS)
  --max-connection-duration SECONDS  close older connections       (default ${AWS_LIMITS.maxConnectionSeconds}, as AWS)
  --max-message-bytes BYTES       largest message payload           (default ${AWS_LIMITS.maxMessageBytes}, as AWS)
  --max-frame-bytes BYTES         largest frame of a message        (default ${AWS_LIMITS.maxFrameBytes}, as AWS)
  --max-concurrency N             sandboxes (worker threads) per function (default ${DEV_DEFAULTS.maxConcurrency})
  --aws-credentials MODE          local: handlers get fake credentials only (default);
                                  inherit: they get yours (AWS_PROFILE, keys) to call other AWS services
  -h, --help                      show this help

Environment:
  DYNAMODB_ENDPOINT or AWS_ENDPOINT_URL_DYNAMODB   use that DynamoDB instead of the embedded one
  JWT_SECRET       the authorizer accepts tokens signed with it (HS256); default: a random dev secret
                   kept in node_modules/.cache/edge-relay (POST /dev/token and npm run token sign with it)
  JWT_JWKS_URL     the authorizer checks tokens against this issuer's keys instead
`;

/** The flags `npm run dev` takes; parseArgs derives the types of the values from it. */
const DEV_FLAGS = {
  config: { type: 'string', default: 'serverless.yml' },
  stage: { type: 'string' },
  param: { type: 'string', multiple: true },
  'http-port': { type: 'string' },
  'ws-port': { type: 'string' },
  host: { type: 'string', default: DEV_DEFAULTS.host },
  'dynamodb-path': { type: 'string' },
  'idle-timeout': { type: 'string' },
  'max-connection-duration': { type: 'string' },
  'max-message-bytes': { type: 'string' },
  'max-frame-bytes': { type: 'string' },
  'max-concurrency': { type: 'string' },
  'aws-credentials': { type: 'string', default: 'local' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** Reads `npm run dev` arguments and environment; returns undefined when help was asked for. */
export function parseDevOptions(argv: string[], env: NodeJS.ProcessEnv): DevServerOptions | undefined {
  let values: ReturnType<typeof parseArgs<{ options: typeof DEV_FLAGS }>>['values'];
  try {
    ({ values } = parseArgs({ args: argv, options: DEV_FLAGS }));
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }
  if (values.help) return undefined;
  return {
    configPath: values.config,
    stage: values.stage,
    ...(values.param && { params: values.param.map(param) }),
    host: values.host,
    httpPort: port(values['http-port'] ?? env.HTTP_PORT, '--http-port / HTTP_PORT', DEV_DEFAULTS.httpPort),
    wsPort: port(values['ws-port'] ?? env.WS_PORT, '--ws-port / WS_PORT', DEV_DEFAULTS.wsPort),
    dynamodbPath: values['dynamodb-path'],
    ...(values['max-concurrency'] !== undefined && {
      maxConcurrency: positiveInteger(values['max-concurrency'], '--max-concurrency'),
    }),
    awsCredentials: credentialsMode(values['aws-credentials']),
    limits: {
      ...optionalNumber(values['idle-timeout'], '--idle-timeout', 'idleTimeoutSeconds'),
      ...optionalNumber(values['max-connection-duration'], '--max-connection-duration', 'maxConnectionSeconds'),
      ...optionalNumber(values['max-message-bytes'], '--max-message-bytes', 'maxMessageBytes'),
      ...optionalNumber(values['max-frame-bytes'], '--max-frame-bytes', 'maxFrameBytes'),
    },
  };
}

/** Checked as osls checks `--param`, so a typo fails here rather than as a missing variable. */
function param(raw: string): string {
  if (!/^[^=]+=.+/.test(raw)) throw new UsageError(`--param must look like --param="key=value", got "${raw}"`);
  return raw;
}

function credentialsMode(raw: string): AwsCredentialsMode {
  const mode = AWS_CREDENTIALS_MODES.find((candidate) => candidate === raw);
  if (!mode) throw new UsageError(`--aws-credentials must be ${AWS_CREDENTIALS_MODES.join(' or ')}, got "${raw}"`);
  return mode;
}

function port(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new UsageError(`${name} must be a port number between 0 and 65535, got "${raw}"`);
  }
  return value;
}

function positiveInteger(raw: string, name: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

/** Node timers cannot wait longer than this many seconds (about 24.8 days). */
const MAX_SECONDS = Math.floor(MAX_TIMER_MS / 1000);

function optionalNumber(raw: string | undefined, name: string, key: string): Record<string, number> {
  if (raw === undefined) return {};
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${name} must be a positive number, got "${raw}"`);
  if (key.endsWith('Seconds') && value > MAX_SECONDS)
    throw new UsageError(`${name} must be at most ${MAX_SECONDS} seconds, got "${raw}"`);
  return { [key]: value };
}
