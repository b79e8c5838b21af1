import { InvalidMessageError } from './errors.js';

/** The only action a client can send today. */
export const SEND_MESSAGE_ACTION = 'sendmessage';

/** A client frame after validation. */
export interface SendMessageFrame {
  action: typeof SEND_MESSAGE_ACTION;
  data: unknown;
}

/** What every recipient of a broadcast receives. `from` is null for server-side publishes. */
export interface MessageFrame {
  type: 'message';
  data: unknown;
  from: string | null;
  id: string;
  ts: number;
}

/** What the sender of an unusable frame receives. */
export interface ErrorFrame {
  type: 'error';
  code: string;
  message: string;
}

/**
 * Parses a raw client frame. Throws InvalidMessageError naming the problem, so the
 * `$default` route and the `sendmessage` route can share one validation.
 */
export function parseClientFrame(body: string | undefined | null): SendMessageFrame {
  let value: unknown;
  try {
    value = JSON.parse(body ?? '');
  } catch {
    throw new InvalidMessageError('invalid_json', 'the frame is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidMessageError(
      'not_an_object',
      'the frame must be a JSON object like {"action":"sendmessage","data":...}',
    );
  }
  const frame = value as Record<string, unknown>;
  if (frame.action === undefined) {
    throw new InvalidMessageError('missing_action', 'the frame has no "action" field');
  }
  if (frame.action !== SEND_MESSAGE_ACTION) {
    const shown = typeof frame.action === 'string' ? `"${frame.action.slice(0, 64)}"` : typeof frame.action;
    throw new InvalidMessageError('unknown_action', `unknown action ${shown}; supported: "${SEND_MESSAGE_ACTION}"`);
  }
  if (!('data' in frame) || frame.data === undefined) {
    throw new InvalidMessageError('missing_data', 'the "sendmessage" frame has no "data" field');
  }
  return { action: SEND_MESSAGE_ACTION, data: frame.data };
}

/** Serialises an error frame for the sender. */
export function errorFrame(error: InvalidMessageError): string {
  const frame: ErrorFrame = { type: 'error', code: error.code, message: error.message };
  return JSON.stringify(frame);
}
