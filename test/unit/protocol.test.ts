import { describe, expect, it } from 'vitest';
import { InvalidMessageError, parseClientFrame } from '../../src/core/index.js';

describe('parseClientFrame', () => {
  it('accepts a sendmessage frame with any JSON data', () => {
    expect(parseClientFrame('{"action":"sendmessage","data":{"text":"hi"}}')).toEqual({
      action: 'sendmessage',
      data: { text: 'hi' },
    });
    expect(parseClientFrame('{"action":"sendmessage","data":null}').data).toBeNull();
    expect(parseClientFrame('{"action":"sendmessage","data":[1,2]}').data).toEqual([1, 2]);
  });

  it.each([
    ['not json', 'invalid_json'],
    ['', 'invalid_json'],
    [undefined, 'invalid_json'],
    ['[1,2]', 'not_an_object'],
    ['"sendmessage"', 'not_an_object'],
    ['null', 'not_an_object'],
    ['{"data":1}', 'missing_action'],
    ['{"action":"shout","data":1}', 'unknown_action'],
    ['{"action":42,"data":1}', 'unknown_action'],
    ['{"action":"sendmessage"}', 'missing_data'],
  ])('rejects %j with code %s', (body, code) => {
    const attempt = () => parseClientFrame(body);
    expect(attempt).toThrow(InvalidMessageError);
    try {
      attempt();
    } catch (error) {
      expect((error as InvalidMessageError).code).toBe(code);
      expect((error as InvalidMessageError).message.length).toBeGreaterThan(10);
    }
  });

  it('does not echo a huge unknown action back in full', () => {
    const action = 'x'.repeat(10_000);
    expect(() => parseClientFrame(JSON.stringify({ action, data: 1 }))).toThrow(/^unknown action "x{64}"/);
  });
});
