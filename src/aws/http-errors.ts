import { STATUS_CODES } from 'node:http';
import type { FastifyError } from 'fastify';
import { Type } from 'typebox';
import { API_GATEWAY_MAX_MESSAGE_BYTES, InvalidMessageError } from '../core/index.js';

/** The one shape of every 4xx and 5xx body of the HTTP API; `error` is a stable snake_case code. */
export const ErrorBody = Type.Object({ error: Type.String(), message: Type.String() });

/** A status and the body to send with it. */
export interface HttpError {
  statusCode: number;
  error: string;
  message: string;
}

const USAGE = 'POST /messages takes application/json: {"data": ...}';

/** Fastify's own request errors, by their `code`, in the API's words. */
const FASTIFY_ERRORS: Record<string, HttpError> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { statusCode: 400, error: 'invalid_json', message: `the body is not JSON; ${USAGE}` },
  FST_ERR_CTP_EMPTY_JSON_BODY: { statusCode: 400, error: 'invalid_json', message: `the body is empty; ${USAGE}` },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { statusCode: 415, error: 'unsupported_media_type', message: USAGE },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    statusCode: 413,
    error: 'message_too_large',
    message: `the body is too large: a message is at most ${API_GATEWAY_MAX_MESSAGE_BYTES / 1024} KB`,
  },
};

/** Maps anything a route or Fastify threw to its status and body; unknown errors are a 500 that says nothing more. */
export function httpErrorFor(error: FastifyError): HttpError {
  if (error.validation) return validationError(error);
  if (error instanceof InvalidMessageError) {
    return { statusCode: error.code === 'message_too_large' ? 413 : 400, error: error.code, message: error.message };
  }
  const known = error.code ? FASTIFY_ERRORS[error.code] : undefined;
  if (known) return known;
  const statusCode = error.statusCode ?? 500;
  if (statusCode >= 400 && statusCode < 500) return { statusCode, error: codeFor(statusCode), message: error.message };
  return { statusCode: 500, error: 'internal_error', message: 'internal error' };
}

/** `not_found`, `method_not_allowed`, ... from the status line's reason phrase. */
export function codeFor(statusCode: number): string {
  return (STATUS_CODES[statusCode] ?? 'error').toLowerCase().replace(/[^a-z]+/g, '_');
}

/** The body schema's complaints, with the WebSocket protocol's codes for the same mistakes. */
function validationError(error: FastifyError): HttpError {
  const first = error.validation?.[0];
  if (first?.keyword === 'required' && first.params.missingProperty === 'data') {
    return { statusCode: 400, error: 'missing_data', message: `the body has no "data" field; ${USAGE}` };
  }
  if (first?.keyword === 'type' && first.instancePath === '') {
    return { statusCode: 400, error: 'not_an_object', message: `the body is not a JSON object; ${USAGE}` };
  }
  return { statusCode: 400, error: 'bad_request', message: error.message };
}
