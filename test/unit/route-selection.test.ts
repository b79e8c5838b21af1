import { describe, expect, it } from 'vitest';
import { createRouteSelector } from '../../src/local/route-selection.js';

describe('route selection', () => {
  const select = createRouteSelector('$request.body.action', ['sendmessage', 'join', '$default']);

  it.each([
    ['{"action":"sendmessage"}', 'sendmessage'],
    ['{"action":"join","room":"a"}', 'join'],
    ['{"action":"leave"}', '$default'],
    ['{"action":42}', '$default'],
    ['{"action":{"x":1}}', '$default'],
    ['{}', '$default'],
    ['not json', '$default'],
    ['"sendmessage"', '$default'],
    ['{"action":"$connect"}', '$default'],
  ])('%s → %s', (body, route) => {
    expect(select(body)).toBe(route);
  });

  it('follows nested paths in either expression form', () => {
    for (const expression of ['$request.body.meta.route', '${request.body.meta.route}']) {
      const nested = createRouteSelector(expression, ['ping', '$default']);
      expect(nested('{"meta":{"route":"ping"}}')).toBe('ping');
      expect(nested('{"meta":"ping"}')).toBe('$default');
    }
  });

  it('without $default, an unmatched message has no route', () => {
    const strict = createRouteSelector('$request.body.action', ['sendmessage']);
    expect(strict('{"action":"other"}')).toBeUndefined();
    expect(strict('garbage')).toBeUndefined();
  });

  it('rejects expressions it cannot evaluate, naming them', () => {
    expect(() => createRouteSelector('$request.header.x', [])).toThrow(/\$request.header.x/);
  });
});
