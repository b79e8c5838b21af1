import { STATUS_CODES } from 'node:http';
import type { FastifyError } from 'fastify';
import { Type } from 'typebox';
import {
  API_GATEWAY_MAX_MESSAGE_BYTES,
  ConnectionGoneError,
  type InvalidMessageCode,
  InvalidMessageError,
} from '../core/index.js';

/** The one shape of every 4xx and 5xx body of the HTTP API; `error` is a stable snake_case code. */
export const ErrorBody = Type.Object({ error: Type.String(), message: Type.String() });

/** A status and the body to send with it. */
export interface HttpError {
  statusCode: number;
  error: string;
  message: string;
}

/** What each kind of route takes, for messages that say how to do it right. */
export const USAGE = {
  publish: 'the server API takes application/json: {"data": ..., "idempotencyKey"?: "<1-64 characters>"}',
  devToken: 'POST /dev/token takes application/json: {"user": "alice", "info"?: {...}, "channels"?: {...}}',
} as const;

/** The InvalidMessageError codes that are not a plain 400. */
const STATUS_BY_CODE: Readonly<Partial<Record<InvalidMessageCode, number>>> = {
  message_too_large: 413,
  forbidden: 403,
  // The first publish with this idempotency key is still being placed: retrying soon will succeed.
  in_progress: 409,
};

/** Fastify's own request errors, by their `code`, in the API's words. */
function fastifyError(code: string | undefined, usage: string): HttpError | undefined {
  switch (code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { statusCode: 400, error: 'invalid_json', message: `the body is not JSON; ${usage}` };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { statusCode: 400, error: 'invalid_json', message: `the body is empty; ${usage}` };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { statusCode: 415, error: 'unsupported_media_type', message: usage };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        statusCode: 413,
        error: 'message_too_large',
        message: `the body is too large: a message is at most ${API_GATEWAY_MAX_MESSAGE_BYTES / 1024} KB`,
      };
    default:
      return undefined;
  }
}

/**
 * Maps anything a route or Fastify threw to its status and body; unknown errors are a 500 that says
 * nothing more. `usage` says what the route takes.
 */
export function httpErrorFor(error: FastifyError, usage: string = USAGE.publish): HttpError {
  if (error.validation) return validationError(error, usage);
  if (error instanceof InvalidMessageError) {
    return { statusCode: STATUS_BY_CODE[error.code] ?? 400, error: error.code, message: error.message };
  }
  if (error instanceof ConnectionGoneError) {
    return {
      statusCode: 404,
      error: 'not_found',
      message: `no connection ${error.connectionId}: it is gone or never was`,
    };
  }
  const known = fastifyError(error.code, usage);
  if (known) return known;
  const statusCode = error.statusCode ?? 500;
  if (statusCode >= 400 && statusCode < 500) return { statusCode, error: codeFor(statusCode), message: error.message };
  return { statusCode: 500, error: 'internal_error', message: 'internal error' };
}

/** `not_found`, `method_not_allowed`, ... from the status line's reason phrase. */
export function codeFor(statusCode: number): string {
  return (STATUS_CODES[statusCode] ?? 'error').toLowerCase().replace(/[^a-z]+/g, '_');
}

/** The schema's complaints, with the WebSocket protocol's codes for the same mistakes. */
function validationError(error: FastifyError, usage: string): HttpError {
  const first = error.validation?.[0];
  const where = error.validationContext;
  if (where === 'body' && first?.keyword === 'required' && first.params.missingProperty === 'data') {
    return { statusCode: 400, error: 'missing_data', message: `the body has no "data" field; ${usage}` };
  }
  if (where === 'body' && first?.keyword === 'type' && first.instancePath === '') {
    return { statusCode: 400, error: 'not_an_object', message: `the body is not a JSON object; ${usage}` };
  }
  // A field missing, of the wrong type or out of range: Fastify's message names it (body/user must ...).
  return {
    statusCode: 400,
    error: 'invalid_request',
    message: where === 'body' ? `${error.message}; ${usage}` : error.message,
  };
}
