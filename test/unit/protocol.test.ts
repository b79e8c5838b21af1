import { describe, expect, it } from 'vitest';
import {
  ackFrame,
  CLIENT_ACTIONS,
  errorFrame,
  InvalidMessageError,
  messageFrame,
  parseClientFrame,
  pongFrame,
  readEnvelope,
  subscribedFrame,
  unsubscribedFrame,
} from '../../src/core/index.js';

/** The InvalidMessageError `attempt` throws. */
function errorOf(attempt: () => unknown): InvalidMessageError {
  try {
    attempt();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidMessageError);
    return error as InvalidMessageError;
  }
  throw new Error('did not throw');
}

describe('parseClientFrame', () => {
  it('accepts a sendmessage frame with any JSON data', () => {
    expect(parseClientFrame('{"action":"sendmessage","data":{"text":"hi"}}')).toEqual({
      action: 'sendmessage',
      data: { text: 'hi' },
    });
    expect(parseClientFrame('{"action":"sendmessage","data":null}')).toEqual({ action: 'sendmessage', data: null });
    expect(parseClientFrame('{"action":"sendmessage","data":[1,2]}')).toEqual({ action: 'sendmessage', data: [1, 2] });
  });

  it.each([
    ['{"action":"subscribe","channel":"chat:lobby","id":"1"}', { action: 'subscribe', channel: 'chat:lobby', id: '1' }],
    [
      '{"action":"unsubscribe","channel":"chat:lobby","id":"2"}',
      { action: 'unsubscribe', channel: 'chat:lobby', id: '2' },
    ],
    [
      '{"action":"publish","channel":"chat:lobby","data":{"t":1},"id":"3"}',
      { action: 'publish', channel: 'chat:lobby', data: { t: 1 }, id: '3' },
    ],
    ['{"action":"publish","channel":"news","data":null}', { action: 'publish', channel: 'news', data: null }],
    ['{"action":"ping","id":"4"}', { action: 'ping', id: '4' }],
    ['{"action":"ping"}', { action: 'ping' }],
    ['{"action":"sendmessage","data":"x","id":"5"}', { action: 'sendmessage', data: 'x', id: '5' }],
    // Unknown fields are ignored: later protocol versions add some.
    ['{"action":"subscribe","channel":"a","after":7}', { action: 'subscribe', channel: 'a' }],
    [
      '{"action":"subscribe","channel":"a","since":{"offset":7,"epoch":"e"}}',
      { action: 'subscribe', channel: 'a', since: { offset: 7, epoch: 'e' } },
    ],
    ['{"action":"history","channel":"a","limit":5}', { action: 'history', channel: 'a', limit: 5 }],
    ['{"action":"presence","channel":"a","id":"p"}', { action: 'presence', channel: 'a', id: 'p' }],
    [
      '{"action":"publish","channel":"a","data":1,"idempotencyKey":"k"}',
      { action: 'publish', channel: 'a', data: 1, idempotencyKey: 'k' },
    ],
    // 64 characters outside the BMP: 128 UTF-16 units, 64 code points, as the server API counts them.
    [
      `{"action":"publish","channel":"a","data":1,"idempotencyKey":"${'😀'.repeat(64)}"}`,
      { action: 'publish', channel: 'a', data: 1, idempotencyKey: '😀'.repeat(64) },
    ],
    [`{"action":"ping","id":"${'i'.repeat(64)}"}`, { action: 'ping', id: 'i'.repeat(64) }],
    ['{"action":"ping","id":""}', { action: 'ping', id: '' }],
  ])('parses %s', (body, frame) => {
    expect(parseClientFrame(body)).toEqual(frame);
  });

  it.each([
    ['not json', 'invalid_json'],
    ['', 'invalid_json'],
    [undefined, 'invalid_json'],
    [null, 'invalid_json'],
    ['[1,2]', 'not_an_object'],
    ['"sendmessage"', 'not_an_object'],
    ['null', 'not_an_object'],
    ['{"data":1}', 'missing_action'],
    ['{"action":"shout","data":1}', 'unknown_action'],
    ['{"action":42,"data":1}', 'unknown_action'],
    ['{"action":null}', 'unknown_action'],
    ['{"action":"sendmessage"}', 'missing_data'],
    ['{"action":"publish","channel":"a"}', 'missing_data'],
    ['{"action":"subscribe"}', 'invalid_request'],
    ['{"action":"subscribe","channel":7}', 'invalid_request'],
    ['{"action":"unsubscribe","channel":["a"]}', 'invalid_request'],
    ['{"action":"publish","channel":null,"data":1}', 'invalid_request'],
    ['{"action":"subscribe","channel":""}', 'invalid_channel'],
    ['{"action":"subscribe","channel":"has space"}', 'invalid_channel'],
    ['{"action":"unsubscribe","channel":"chat/lobby"}', 'invalid_channel'],
    [`{"action":"publish","channel":"${'c'.repeat(129)}","data":1}`, 'invalid_channel'],
    ['{"action":"ping","id":7}', 'invalid_request'],
    ['{"action":"ping","id":null}', 'invalid_request'],
    ['{"action":"ping","id":{"n":1}}', 'invalid_request'],
    [`{"action":"ping","id":"${'i'.repeat(65)}"}`, 'invalid_request'],
    // since, limit, idempotencyKey: of the wrong type or out of range
    ['{"action":"subscribe","channel":"a","since":7}', 'invalid_request'],
    ['{"action":"subscribe","channel":"a","since":null}', 'invalid_request'],
    ['{"action":"subscribe","channel":"a","since":{"offset":1}}', 'invalid_request'],
    ['{"action":"subscribe","channel":"a","since":{"offset":-1,"epoch":"e"}}', 'invalid_request'],
    ['{"action":"subscribe","channel":"a","since":{"offset":1.5,"epoch":"e"}}', 'invalid_request'],
    ['{"action":"subscribe","channel":"a","since":{"offset":"1","epoch":"e"}}', 'invalid_request'],
    ['{"action":"subscribe","channel":"a","since":{"offset":1e300,"epoch":"e"}}', 'invalid_request'],
    ['{"action":"subscribe","channel":"a","since":{"offset":1,"epoch":""}}', 'invalid_request'],
    [`{"action":"history","channel":"a","since":{"offset":1,"epoch":"${'e'.repeat(65)}"}}`, 'invalid_request'],
    ['{"action":"history","channel":"a","limit":0}', 'invalid_request'],
    ['{"action":"history","channel":"a","limit":"5"}', 'invalid_request'],
    ['{"action":"history","channel":"a","limit":2.5}', 'invalid_request'],
    ['{"action":"history"}', 'invalid_request'],
    ['{"action":"presence","channel":"bad name"}', 'invalid_channel'],
    ['{"action":"publish","channel":"a","data":1,"idempotencyKey":""}', 'invalid_request'],
    ['{"action":"publish","channel":"a","data":1,"idempotencyKey":7}', 'invalid_request'],
    [`{"action":"publish","channel":"a","data":1,"idempotencyKey":"${'k'.repeat(65)}"}`, 'invalid_request'],
  ])('rejects %j with code %s and a message saying why', (body, code) => {
    const error = errorOf(() => parseClientFrame(body));
    expect(error.code).toBe(code);
    expect(error.message.length).toBeGreaterThan(10);
  });

  it('checks the id before the action: a frame with a bad id and no action is invalid_request', () => {
    expect(errorOf(() => parseClientFrame('{"id":5}')).code).toBe('invalid_request');
    expect(errorOf(() => parseClientFrame('{"id":"ok"}')).code).toBe('missing_action');
  });

  it('keeps the sendmessage messages clients already match on', () => {
    expect(errorOf(() => parseClientFrame('{"action":"sendmessage"}')).message).toBe(
      'the "sendmessage" frame has no "data" field',
    );
    expect(errorOf(() => parseClientFrame('{"data":1}')).message).toBe('the frame has no "action" field');
    expect(errorOf(() => parseClientFrame('nope')).message).toBe('the frame is not valid JSON');
  });

  it('an unknown action is answered with every supported action', () => {
    const { message } = errorOf(() => parseClientFrame('{"action":"dance"}'));
    expect(message).toBe(
      'unknown action "dance"; supported: "subscribe", "unsubscribe", "publish", "history", "presence", "ping", "sendmessage"',
    );
    for (const action of CLIENT_ACTIONS) expect(message).toContain(`"${action}"`);
  });

  it('does not echo a huge unknown action, id or channel back in full', () => {
    const huge = 'x'.repeat(10_000);
    expect(() => parseClientFrame(JSON.stringify({ action: huge, data: 1 }))).toThrow(/^unknown action "x{64}"/);
    expect(errorOf(() => parseClientFrame(JSON.stringify({ action: 'ping', id: huge }))).message.length).toBeLessThan(
      200,
    );
    expect(
      errorOf(() => parseClientFrame(JSON.stringify({ action: 'subscribe', channel: huge }))).message.length,
    ).toBeLessThan(200);
  });
});

describe('readEnvelope', () => {
  it('gives the id as soon as the frame is an object with a valid one, whatever follows', () => {
    expect(readEnvelope('{"action":"dance","id":"7"}')).toEqual({ id: '7', fields: { action: 'dance', id: '7' } });
    expect(readEnvelope('{"action":"dance"}').id).toBeUndefined();
  });
});

describe('server frames', () => {
  it('replies carry the request id first after the type, and none when the request had none', () => {
    const position = { offset: 7, epoch: 'e1' };
    expect(subscribedFrame('chat:lobby', position, '1')).toBe(
      '{"type":"subscribed","id":"1","channel":"chat:lobby","position":{"offset":7,"epoch":"e1"}}',
    );
    expect(unsubscribedFrame('chat:lobby', '2')).toBe('{"type":"unsubscribed","id":"2","channel":"chat:lobby"}');
    expect(ackFrame('chat:lobby', 'm1', 8, '3')).toBe(
      '{"type":"ack","id":"3","channel":"chat:lobby","messageId":"m1","offset":8}',
    );
    expect(pongFrame('4')).toBe('{"type":"pong","id":"4"}');
    expect(pongFrame()).toBe('{"type":"pong"}');
    expect(subscribedFrame('a', { offset: 0, epoch: 'e' })).toBe(
      '{"type":"subscribed","channel":"a","position":{"offset":0,"epoch":"e"}}',
    );
    expect(ackFrame('a', 'm', 1)).toBe('{"type":"ack","channel":"a","messageId":"m","offset":1}');
  });

  it('an error frame echoes a valid id, and has no id field otherwise', () => {
    const error = new InvalidMessageError('forbidden', 'no');
    expect(JSON.parse(errorFrame(error, '3'))).toEqual({ type: 'error', id: '3', code: 'forbidden', message: 'no' });
    expect(JSON.parse(errorFrame(error))).toEqual({ type: 'error', code: 'forbidden', message: 'no' });
    expect('id' in JSON.parse(errorFrame(error))).toBe(false);
  });

  it('a message frame has the documented fields in the documented order', () => {
    const frame = messageFrame({
      channel: 'chat:lobby',
      id: 'm1',
      data: { text: 'hi' },
      from: 'c1',
      user: { id: 'alice', info: { name: 'Alice' } },
      ts: 5,
      offset: 3,
      epoch: 'e1',
    });
    expect(frame).toBe(
      '{"type":"message","channel":"chat:lobby","id":"m1","data":{"text":"hi"},"from":"c1","user":{"id":"alice","info":{"name":"Alice"}},"ts":5,"offset":3,"epoch":"e1"}',
    );
  });
});
