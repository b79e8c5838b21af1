import { describe, expect, it } from 'vitest';
import {
  assertChannelName,
  DEFAULT_NAMESPACE_OPTIONS,
  InvalidMessageError,
  isChannelName,
  namespaceOf,
  optionsFor,
  parseNamespaces,
  personalChannel,
  personalChannelOwner,
} from '../../src/core/index.js';

describe('channel names', () => {
  it.each(['default', 'chat:lobby', 'a', 'user:alice@example.com', 'x_y-z.1:2=3', 'c'.repeat(128), 'chat:a:b'])(
    'accepts %s',
    (name) => {
      expect(isChannelName(name)).toBe(true);
      expect(assertChannelName(name)).toBe(name);
    },
  );

  it.each(['', 'c'.repeat(129), 'has space', 'chat/lobby', 'chat#1', 'émoji', 'a*', 'line\nbreak', 'a?b'])(
    'refuses %j with invalid_channel',
    (name) => {
      expect(isChannelName(name)).toBe(false);
      expect(() => assertChannelName(name)).toThrow(InvalidMessageError);
      expect(() => assertChannelName(name)).toThrow(/is not a channel name: use 1-128 characters/);
      try {
        assertChannelName(name);
      } catch (error) {
        expect((error as InvalidMessageError).code).toBe('invalid_channel');
      }
    },
  );

  it.each([undefined, null, 42, ['a'], { name: 'a' }])('refuses the non-string %j, naming its type', (value) => {
    expect(isChannelName(value)).toBe(false);
    expect(() => assertChannelName(value)).toThrow(new RegExp(`^${typeof value} is not a channel name`));
  });

  it('shows at most 64 characters of a bad name', () => {
    const error = (() => {
      try {
        assertChannelName(`${'x'.repeat(500)} `);
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(error?.message).toMatch(/^"x{64}…" is not a channel name/);
  });
});

describe('namespaces', () => {
  it('a namespace is the part before the first colon; none is the empty namespace', () => {
    expect(namespaceOf('chat:lobby')).toBe('chat');
    expect(namespaceOf('chat:a:b')).toBe('chat');
    expect(namespaceOf('default')).toBe('');
    expect(namespaceOf(':x')).toBe('');
  });

  it('a channel gets its namespace options, or the defaults when undeclared', () => {
    const namespaces = parseNamespaces('{"chat":{"presence":true},"":{"clientPublish":false}}');
    expect(optionsFor('chat:lobby', namespaces)).toEqual({ ...DEFAULT_NAMESPACE_OPTIONS, presence: true });
    expect(optionsFor('default', namespaces)).toEqual({ ...DEFAULT_NAMESPACE_OPTIONS, clientPublish: false });
    expect(optionsFor('news:x', namespaces)).toBe(DEFAULT_NAMESPACE_OPTIONS);
    expect(optionsFor('chat:lobby', {})).toBe(DEFAULT_NAMESPACE_OPTIONS);
  });

  it('parses the shipped configuration, filling in the options it leaves out, and freezes it', () => {
    const namespaces = parseNamespaces(
      JSON.stringify({
        chat: { presence: true, joinLeave: true, historySize: 100, historyTtlSeconds: 86400, clientPublish: true },
        alerts: { clientPublish: false },
      }),
    );
    expect(namespaces).toEqual({
      chat: { presence: true, joinLeave: true, historySize: 100, historyTtlSeconds: 86400, clientPublish: true },
      alerts: { ...DEFAULT_NAMESPACE_OPTIONS, clientPublish: false },
    });
    expect(Object.isFrozen(namespaces)).toBe(true);
    expect(Object.isFrozen(namespaces.chat)).toBe(true);
    expect(parseNamespaces('{}')).toEqual({});
  });

  it.each([
    ['{', /is not valid JSON/],
    ['[]', /must be a JSON object of namespace name to options/],
    ['"chat"', /must be a JSON object/],
    ['null', /must be a JSON object/],
    ['{"ch at":{}}', /namespace "ch at" is not a valid namespace name/],
    ['{"a:b":{}}', /namespace "a:b" is not a valid namespace name/],
    ['{"chat":true}', /namespace "chat" must be an object of options/],
    ['{"chat":[]}', /namespace "chat" must be an object of options/],
    ['{"chat":{"history":1}}', /namespace "chat": unknown option "history"; known: presence, joinLeave/],
    ['{"chat":{"presence":"yes"}}', /option "presence" must be true or false/],
    ['{"chat":{"historySize":-1,"historyTtlSeconds":1}}', /option "historySize" must be a non-negative integer/],
    ['{"chat":{"historySize":1.5,"historyTtlSeconds":1}}', /option "historySize" must be a non-negative integer/],
    ['{"chat":{"historyTtlSeconds":"60"}}', /option "historyTtlSeconds" must be a non-negative integer/],
    ['{"chat":{"historySize":10}}', /namespace "chat": historySize needs historyTtlSeconds > 0/],
    ['{"chat":{"historySize":1001,"historyTtlSeconds":1}}', /namespace "chat": historySize must be at most 1000/],
  ])('refuses %s with a TypeError saying what is wrong', (json, message) => {
    expect(() => parseNamespaces(json)).toThrow(TypeError);
    expect(() => parseNamespaces(json)).toThrow(message);
  });
});

describe('personal channels', () => {
  it('a user id forms user:<id>, and the channel names its owner', () => {
    expect(personalChannel('alice')).toBe('user:alice');
    expect(personalChannelOwner('user:alice')).toBe('alice');
    expect(personalChannelOwner('user:a:b')).toBe('a:b');
  });

  it('an id that cannot form a channel name has no personal channel', () => {
    expect(personalChannel('auth0|123')).toBeUndefined();
    expect(personalChannel('has space')).toBeUndefined();
    expect(personalChannel('x'.repeat(124))).toBeUndefined();
    expect(personalChannel('x'.repeat(123))).toBe(`user:${'x'.repeat(123)}`);
  });

  it('other channels have no owner', () => {
    for (const channel of ['default', 'chat:lobby', 'users:alice', 'user']) {
      expect(personalChannelOwner(channel)).toBeUndefined();
    }
  });
});
