import { assertChannelName } from './channels.js';
import { InvalidMessageError } from './errors.js';
import type { UserRef } from './identity.js';
import { pageByBytes, REPLY_PAGE_BYTES } from './paging.js';
import type { PresenceMember, StreamPosition } from './ports.js';

/** Today's action: publish to the default channel, no acknowledgement (the contract before channels). */
export const SEND_MESSAGE_ACTION = 'sendmessage';

/** Every action a client frame may name, in the order error messages list them. */
export const CLIENT_ACTIONS = [
  'subscribe',
  'unsubscribe',
  'publish',
  'history',
  'presence',
  'ping',
  SEND_MESSAGE_ACTION,
] as const;
export type ClientAction = (typeof CLIENT_ACTIONS)[number];

/** A client's request id: echoed on every direct reply so it can match replies to requests. */
export const MAX_REQUEST_ID_LENGTH = 64;
/** An idempotency key's and an epoch's longest accepted length. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 64;
export const MAX_EPOCH_LENGTH = 64;

/** A client frame after validation. `id` is the client's request id, when it sent one. */
export type ClientFrame =
  /** `since`: the last position the client got; asks for what it missed (recovery). */
  | { action: 'subscribe'; id?: string; channel: string; since?: StreamPosition }
  | { action: 'unsubscribe'; id?: string; channel: string }
  | { action: 'publish'; id?: string; channel: string; data: unknown; idempotencyKey?: string }
  | { action: 'history'; id?: string; channel: string; limit?: number; since?: StreamPosition }
  | { action: 'presence'; id?: string; channel: string }
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
    case 'publish': {
      const idempotencyKey = idempotencyKeyOf(fields);
      return {
        action,
        ...withId,
        channel: channelOf(action, fields),
        data: requireData(action, fields),
        ...(idempotencyKey !== undefined && { idempotencyKey }),
      };
    }
    case 'subscribe': {
      const since = positionOf(fields, 'since');
      return { action, ...withId, channel: channelOf(action, fields), ...(since && { since }) };
    }
    case 'history': {
      const since = positionOf(fields, 'since');
      const limit = limitOf(fields);
      return {
        action,
        ...withId,
        channel: channelOf(action, fields),
        ...(limit !== undefined && { limit }),
        ...(since && { since }),
      };
    }
    default:
      return { action, ...withId, channel: channelOf(action, fields) };
  }
}

/** Checks a client's `{offset, epoch}`: a safe integer >= 0 and a string of 1-64 characters. */
export function assertPosition(offset: unknown, epoch: unknown, field: string): StreamPosition {
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) {
    throw new InvalidMessageError(
      'invalid_request',
      `"${field}.offset" must be an integer of at least 0, got ${describe(offset)}`,
    );
  }
  if (typeof epoch !== 'string' || epoch.length === 0 || epoch.length > MAX_EPOCH_LENGTH) {
    throw new InvalidMessageError(
      'invalid_request',
      `"${field}.epoch" must be a string of 1-${MAX_EPOCH_LENGTH} characters, got ${describe(epoch)}`,
    );
  }
  return { offset: offset as number, epoch };
}

function positionOf(fields: Record<string, unknown>, field: string): StreamPosition | undefined {
  if (!(field in fields)) return undefined;
  const value = fields[field];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidMessageError(
      'invalid_request',
      `"${field}" must be an object {"offset": <integer>, "epoch": "<string>"}, got ${describe(value)}`,
    );
  }
  const { offset, epoch } = value as Record<string, unknown>;
  return assertPosition(offset, epoch, field);
}

function limitOf(fields: Record<string, unknown>): number | undefined {
  if (!('limit' in fields)) return undefined;
  const { limit } = fields;
  if (!Number.isSafeInteger(limit) || (limit as number) < 1) {
    throw new InvalidMessageError(
      'invalid_request',
      `"limit" must be an integer of at least 1, got ${describe(limit)}`,
    );
  }
  return limit as number;
}

function idempotencyKeyOf(fields: Record<string, unknown>): string | undefined {
  if (!('idempotencyKey' in fields)) return undefined;
  return assertIdempotencyKey(fields.idempotencyKey);
}

/**
 * A key of 1-64 characters, counted as code points as the server API's body schema (ajv) counts
 * them, so one key is accepted by both transports or by neither.
 */
export function assertIdempotencyKey(key: unknown): string {
  const length = typeof key === 'string' ? [...key].length : 0;
  if (typeof key !== 'string' || length === 0 || length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new InvalidMessageError(
      'invalid_request',
      `"idempotencyKey" must be a string of 1-${MAX_IDEMPOTENCY_KEY_LENGTH} characters, got ${describe(key)}`,
    );
  }
  return key;
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

/**
 * The reply to a subscribe, with the channel's last position (offset 0 when nothing was published);
 * `recovered` answers a subscribe that gave `since`.
 */
export function subscribedFrame(channel: string, position: StreamPosition, id?: string, recovered?: boolean): string {
  return JSON.stringify({
    type: 'subscribed',
    ...idField(id),
    channel,
    position: positionField(position),
    ...(recovered !== undefined && { recovered }),
  });
}

/** The reply to an unsubscribe. */
export function unsubscribedFrame(channel: string, id?: string): string {
  return JSON.stringify({ type: 'unsubscribed', ...idField(id), channel });
}

/**
 * The reply to an accepted publish, sent before delivery to the subscribers; `duplicate` when an
 * earlier publish with the same idempotency key was accepted (its id and offset are these).
 */
export function ackFrame(channel: string, messageId: string, offset: number, id?: string, duplicate?: boolean): string {
  return JSON.stringify({ type: 'ack', ...idField(id), channel, messageId, offset, ...(duplicate && { duplicate }) });
}

/**
 * The reply to a history request, as frames of at most 128 KB: `publications` (message frames, kept
 * as the JSON text subscribers got) oldest first across the pages, `more` on every page but the last.
 */
export function historyFrames(channel: string, position: StreamPosition, frames: string[], id?: string): string[] {
  const head = JSON.stringify({ type: 'history', ...idField(id), channel, position: positionField(position) });
  return pagedFrames(head, 'publications', frames);
}

/** The reply to a presence request: the members, paged like history. */
export function presenceFrames(channel: string, members: PresenceMember[], id?: string): string[] {
  const head = JSON.stringify({ type: 'presence', ...idField(id), channel });
  return pagedFrames(head, 'members', members.map(memberJson));
}

/** What the other subscribers of a joinLeave channel receive when a connection subscribes or leaves. */
export function membershipFrame(type: 'join' | 'leave', channel: string, member: PresenceMember): string {
  return `{"type":"${type}","channel":${JSON.stringify(channel)},"member":${memberJson(member)}}`;
}

function memberJson({ connectionId, userId, info }: PresenceMember): string {
  return JSON.stringify({ connectionId, userId, info });
}

/** `head` (a JSON object's text) extended with `"<field>":[items],"more":...`, one frame per page. */
function pagedFrames(head: string, field: string, items: string[]): string[] {
  const pages = pageByBytes(items, REPLY_PAGE_BYTES);
  const open = `${head.slice(0, -1)},"${field}":[`;
  return pages.map((page, index) => `${open}${page.join(',')}],"more":${index < pages.length - 1}}`);
}

const positionField = ({ offset, epoch }: StreamPosition) => ({ offset, epoch });

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
