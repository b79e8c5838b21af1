import { assertChannelName } from './channels.js';
import { InvalidMessageError } from './errors.js';
import type { UserRef } from './identity.js';
import type { StreamPosition } from './ports.js';

/** Today's action: publish to the default channel, no acknowledgement (the contract before channels). */
export const SEND_MESSAGE_ACTION = 'sendmessage';

/** Every action a client frame may name, in the order error messages list them. */
export const CLIENT_ACTIONS = ['subscribe', 'unsubscribe', 'publish', 'ping', SEND_MESSAGE_ACTION] as const;
export type ClientAction = (typeof CLIENT_ACTIONS)[number];

/** A client's request id: echoed on every direct reply so it can match replies to requests. */
export const MAX_REQUEST_ID_LENGTH = 64;

/** A client frame after validation. `id` is the client's request id, when it sent one. */
export type ClientFrame =
  | { action: 'subscribe'; id?: string; channel: string }
  | { action: 'unsubscribe'; id?: string; channel: string }
  | { action: 'publish'; id?: string; channel: string; data: unknown }
  | { action: 'ping'; id?: string }
  | { action: typeof SEND_MESSAGE_ACTION; id?: string; data: unknown };

/** A frame that is a JSON object with a usable `id`: what is known before its action is read. */
export interface Envelope {
  id?: string;
  fields: Record<string, unknown>;
}

/** What every subscriber of a channel receives. `from` and `user` are null for the server API. */
export interface MessageFrame {
  type: 'message';
  channel: string;
  /** The message id (the same as the publisher's ack `messageId`), not a request id. */
  id: string;
  data: unknown;
  from: string | null;
  user: UserRef;
  ts: number;
  /** The publication's place in the channel's stream: one more than the previous one's. */
  offset: number;
  /** The stream the offset counts in; a new epoch means earlier offsets mean nothing. */
  epoch: string;
}

/** What the sender of an unusable frame receives; `id` when the frame carried a valid one. */
export interface ErrorFrame {
  type: 'error';
  id?: string;
  code: string;
  message: string;
}

/**
 * Reads the outside of a raw frame: JSON, an object, a valid `id`. Its errors carry no id (there
 * is none to trust); everything after it can answer with `Envelope.id`.
 */
export function readEnvelope(body: string | undefined | null): Envelope {
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
  const fields = value as Record<string, unknown>;
  if (!('id' in fields)) return { fields };
  if (typeof fields.id !== 'string' || fields.id.length > MAX_REQUEST_ID_LENGTH) {
    throw new InvalidMessageError(
      'invalid_request',
      `"id" must be a string of at most ${MAX_REQUEST_ID_LENGTH} characters, got ${describe(fields.id)}`,
    );
  }
  return { id: fields.id, fields };
}

/** Validates the action and its fields. Throws InvalidMessageError naming the problem. */
export function parseFrame({ id, fields }: Envelope): ClientFrame {
  const { action } = fields;
  if (action === undefined) throw new InvalidMessageError('missing_action', 'the frame has no "action" field');
  if (!isClientAction(action)) {
    const shown = typeof action === 'string' ? `"${action.slice(0, 64)}"` : typeof action;
    const supported = CLIENT_ACTIONS.map((name) => `"${name}"`).join(', ');
    throw new InvalidMessageError('unknown_action', `unknown action ${shown}; supported: ${supported}`);
  }
  const withId = id === undefined ? {} : { id };
  switch (action) {
    case 'ping':
      return { action, ...withId };
    case SEND_MESSAGE_ACTION:
      return { action, ...withId, data: requireData(action, fields) };
    case 'publish':
      return { action, ...withId, channel: channelOf(action, fields), data: requireData(action, fields) };
    default:
      return { action, ...withId, channel: channelOf(action, fields) };
  }
}

/** Both steps at once, for callers that do not answer with the id. */
export function parseClientFrame(body: string | undefined | null): ClientFrame {
  return parseFrame(readEnvelope(body));
}

function isClientAction(value: unknown): value is ClientAction {
  return (CLIENT_ACTIONS as readonly unknown[]).includes(value);
}

function channelOf(action: ClientAction, fields: Record<string, unknown>): string {
  if (typeof fields.channel !== 'string') {
    throw new InvalidMessageError(
      'invalid_request',
      `the "${action}" frame needs a "channel" string, got ${describe(fields.channel)}`,
    );
  }
  return assertChannelName(fields.channel);
}

function requireData(action: ClientAction, fields: Record<string, unknown>): unknown {
  // null is data; only an absent field is missing (JSON has no undefined).
  if (!('data' in fields)) throw new InvalidMessageError('missing_data', `the "${action}" frame has no "data" field`);
  return fields.data;
}

/** A value's kind for an error message, never the value itself (it may be huge). */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  return `a ${typeof value}`;
}

/** `{"id": ...}` when the request had one, else nothing: replies to id-less frames carry no id. */
const idField = (id: string | undefined) => (id === undefined ? {} : { id });

/** The reply to a subscribe, with the channel's last position (offset 0 when nothing was published). */
export function subscribedFrame(channel: string, position: StreamPosition, id?: string): string {
  return JSON.stringify({
    type: 'subscribed',
    ...idField(id),
    channel,
    position: { offset: position.offset, epoch: position.epoch },
  });
}

/** The reply to an unsubscribe. */
export function unsubscribedFrame(channel: string, id?: string): string {
  return JSON.stringify({ type: 'unsubscribed', ...idField(id), channel });
}

/** The reply to an accepted publish, sent before delivery to the subscribers. */
export function ackFrame(channel: string, messageId: string, offset: number, id?: string): string {
  return JSON.stringify({ type: 'ack', ...idField(id), channel, messageId, offset });
}

/** The reply to a ping. */
export function pongFrame(id?: string): string {
  return JSON.stringify({ type: 'pong', ...idField(id) });
}

/** Serialises a message frame, in the field order the protocol documents. */
export function messageFrame(message: Omit<MessageFrame, 'type'>): string {
  const { channel, id, data, from, user, ts, offset, epoch } = message;
  const frame: MessageFrame = { type: 'message', channel, id, data, from, user, ts, offset, epoch };
  return JSON.stringify(frame);
}

/** Serialises an error frame for the sender, echoing the request's id when it had one. */
export function errorFrame(error: InvalidMessageError, id?: string): string {
  const frame: ErrorFrame = { type: 'error', ...idField(id), code: error.code, message: error.message };
  return JSON.stringify(frame);
}
