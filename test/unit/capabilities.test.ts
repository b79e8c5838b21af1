import { describe, expect, it } from 'vitest';
import {
  ALL_CAPABILITIES,
  allows,
  type Capabilities,
  DEFAULT_ANONYMOUS_CAPABILITIES,
  OPERATIONS,
  parseCapabilities,
} from '../../src/core/index.js';

describe('allows', () => {
  const capabilities: Capabilities = {
    'chat:*': ['subscribe', 'publish'],
    news: ['subscribe'],
    'team:red:*': ['history'],
  };

  it.each([
    ['chat:lobby', 'subscribe', true],
    ['chat:lobby', 'publish', true],
    ['chat:lobby', 'presence', false],
    ['chat:', 'subscribe', true],
    ['chat', 'subscribe', false],
    ['chatter', 'subscribe', false],
    ['news', 'subscribe', true],
    ['news', 'publish', false],
    ['news:extra', 'subscribe', false],
    ['team:red:1', 'history', true],
    ['team:blue:1', 'history', false],
    ['default', 'subscribe', false],
  ] as const)('on %s, %s is %s (exact names and prefixes ending in *)', (channel, operation, expected) => {
    expect(allows(capabilities, channel, operation, 'alice')).toBe(expected);
  });

  it('* allows every operation on every channel but personal ones', () => {
    for (const operation of OPERATIONS) {
      expect(allows(ALL_CAPABILITIES, 'anything:at:all', operation, 'alice')).toBe(true);
      expect(allows(ALL_CAPABILITIES, 'default', operation, null)).toBe(true);
    }
  });

  it("another user's personal channel is closed whatever the capabilities say", () => {
    const explicit: Capabilities = { 'user:bob': OPERATIONS, 'user:*': OPERATIONS };
    for (const operation of OPERATIONS) {
      expect(allows(ALL_CAPABILITIES, 'user:bob', operation, 'alice')).toBe(false);
      expect(allows(explicit, 'user:bob', operation, 'alice')).toBe(false);
      // An anonymous connection owns no personal channel.
      expect(allows(ALL_CAPABILITIES, 'user:bob', operation, null)).toBe(false);
    }
  });

  it('a user may always subscribe to their own personal channel; other operations there follow the patterns', () => {
    expect(allows({}, 'user:alice', 'subscribe', 'alice')).toBe(true);
    expect(allows({}, 'user:alice', 'publish', 'alice')).toBe(false);
    expect(allows(ALL_CAPABILITIES, 'user:alice', 'publish', 'alice')).toBe(true);
    expect(allows({ 'user:alice': ['history'] }, 'user:alice', 'history', 'alice')).toBe(true);
  });

  it('anonymous connections get the default channel only unless configured', () => {
    for (const operation of OPERATIONS) {
      expect(allows(DEFAULT_ANONYMOUS_CAPABILITIES, 'default', operation, null)).toBe(true);
      expect(allows(DEFAULT_ANONYMOUS_CAPABILITIES, 'chat:lobby', operation, null)).toBe(false);
    }
  });

  it('no capabilities allow nothing', () => {
    expect(allows({}, 'default', 'subscribe', 'alice')).toBe(false);
  });
});

describe('parseCapabilities', () => {
  it('accepts names, prefixes ending in * and *, and freezes the result', () => {
    const parsed = parseCapabilities({ 'chat:*': ['subscribe', 'publish'], news: ['subscribe'], '*': [] });
    expect(parsed).toEqual({ 'chat:*': ['subscribe', 'publish'], news: ['subscribe'], '*': [] });
    expect(Object.isFrozen(parsed)).toBe(true);
    expect(Object.isFrozen(parsed['chat:*'])).toBe(true);
    expect(parseCapabilities({})).toEqual({});
  });

  it('copies the operations: later changes to the input do not widen them', () => {
    const operations = ['subscribe'];
    const parsed = parseCapabilities({ news: operations });
    operations.push('publish');
    expect(parsed.news).toEqual(['subscribe']);
  });

  it.each([null, 'chat:*', 42, [['chat:*', ['subscribe']]]])('refuses %j: not an object', (value) => {
    expect(() => parseCapabilities(value)).toThrow(TypeError);
    expect(() => parseCapabilities(value)).toThrow(/must be an object of channel pattern to operations/);
  });

  it.each(['', 'has space', 'chat:**', '*chat', 'a*b', 'c'.repeat(129)])('refuses the pattern %j', (pattern) => {
    expect(() => parseCapabilities({ [pattern]: ['subscribe'] })).toThrow(/is not a channel pattern/);
  });

  it.each<[unknown, string]>([
    ['subscribe', 'not an array'],
    [['subscribe', 'delete'], 'an unknown operation'],
    [[1], 'a number'],
    [{ subscribe: true }, 'an object'],
  ])('refuses operations %j (%s), listing the known ones', (operations) => {
    expect(() => parseCapabilities({ 'chat:*': operations })).toThrow(
      '"chat:*" must list operations from subscribe, publish, presence, history',
    );
  });

  it('shows at most 64 characters of a bad pattern', () => {
    expect(() => parseCapabilities({ [`${'x'.repeat(300)} `]: [] })).toThrow(/^"x{64}" is not a channel pattern/);
  });
});
