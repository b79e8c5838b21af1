import { describe, expect, it } from 'vitest';
import {
  ALL_CAPABILITIES,
  DEFAULT_ANONYMOUS_CAPABILITIES,
  type Identity,
  identityContext,
  identityFromContext,
  userRefOf,
} from '../../src/core/index.js';

const alice: Identity = {
  userId: 'alice',
  info: { name: 'Alice', avatar: 'https://example.com/a.png' },
  capabilities: { 'chat:*': ['subscribe', 'publish'] },
};
const anonymous: Identity = { userId: null, info: null, capabilities: DEFAULT_ANONYMOUS_CAPABILITIES };

describe('userRefOf', () => {
  it('shows a user by id and info, an anonymous connection as null', () => {
    expect(userRefOf(alice)).toEqual({ id: 'alice', info: alice.info });
    expect(userRefOf({ ...alice, info: null })).toEqual({ id: 'alice', info: null });
    expect(userRefOf(anonymous)).toBeNull();
  });
});

describe('the authorizer context', () => {
  it('carries only strings, as API Gateway requires of context values', () => {
    const context = identityContext(alice);
    expect(context).toEqual({
      userId: 'alice',
      info: JSON.stringify(alice.info),
      capabilities: JSON.stringify(alice.capabilities),
    });
    for (const value of Object.values(context)) expect(typeof value).toBe('string');
  });

  it('leaves out the user id and info of an anonymous connection', () => {
    expect(identityContext(anonymous)).toEqual({ capabilities: JSON.stringify(DEFAULT_ANONYMOUS_CAPABILITIES) });
  });

  it.each([
    ['a user', alice],
    ['a user without info', { ...alice, info: null }],
    ['an anonymous connection', anonymous],
  ])('round-trips %s, with the keys API Gateway adds ignored', (_name, identity) => {
    const context = { ...identityContext(identity), principalId: 'alice', integrationLatency: 12 };
    expect(identityFromContext(context, ALL_CAPABILITIES)).toEqual(identity);
  });

  it('without a context from our authorizer, the connection is anonymous with the given capabilities', () => {
    const expected = { userId: null, info: null, capabilities: DEFAULT_ANONYMOUS_CAPABILITIES };
    expect(identityFromContext(undefined, DEFAULT_ANONYMOUS_CAPABILITIES)).toEqual(expected);
    // Another authorizer's context (no capabilities) does not make a user.
    expect(identityFromContext({ principalId: 'me', userId: 'x' }, DEFAULT_ANONYMOUS_CAPABILITIES)).toEqual(expected);
  });

  it('a malformed context is a bug in the authorizer and throws', () => {
    expect(() => identityFromContext({ capabilities: '{' }, ALL_CAPABILITIES)).toThrow(SyntaxError);
    expect(() => identityFromContext({ capabilities: '{"a b":[]}' }, ALL_CAPABILITIES)).toThrow(TypeError);
    expect(() => identityFromContext({ capabilities: '{}', info: 'not json' }, ALL_CAPABILITIES)).toThrow(SyntaxError);
  });
});
