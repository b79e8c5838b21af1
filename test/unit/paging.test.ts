import { describe, expect, it } from 'vitest';
import { historyFrames, membershipFrame, pageByBytes, presenceFrames, REPLY_PAGE_BYTES } from '../../src/core/index.js';

describe('pageByBytes', () => {
  it('fills each page up to the budget, counting the commas between items, in order', () => {
    expect(pageByBytes(['aa', 'bb', 'cc', 'd'], 5)).toEqual([
      ['aa', 'bb'],
      ['cc', 'd'],
    ]);
    expect(pageByBytes(['aa', 'bb'], 4)).toEqual([['aa'], ['bb']]);
  });

  it('counts UTF-8 bytes, not characters', () => {
    expect(pageByBytes(['éé', 'x'], 4)).toEqual([['éé'], ['x']]);
  });

  it('gives an item over the budget a page of its own, and nothing still one empty page', () => {
    expect(pageByBytes(['a', 'toolong', 'b'], 3)).toEqual([['a'], ['toolong'], ['b']]);
    expect(pageByBytes([], 3)).toEqual([[]]);
  });
});

describe('paged replies', () => {
  const position = { offset: 9, epoch: 'e' };

  it('a history page is valid JSON embedding the kept frames as they are, more on all but the last', () => {
    const frame = JSON.stringify({ type: 'message', offset: 9, data: 'x'.repeat(REPLY_PAGE_BYTES - 40) });
    const pages = historyFrames('c', position, ['{"offset":8}', frame], 'id"1').map((page) => JSON.parse(page));

    expect(pages).toEqual([
      { type: 'history', id: 'id"1', channel: 'c', position, publications: [{ offset: 8 }], more: true },
      { type: 'history', id: 'id"1', channel: 'c', position, publications: [JSON.parse(frame)], more: false },
    ]);
  });

  it('an empty history and presence are one page each; join and leave name the member', () => {
    const member = { connectionId: 'x', userId: null, info: { a: 1 } };

    expect(JSON.parse(historyFrames('c', position, [])[0]!)).toEqual({
      type: 'history',
      channel: 'c',
      position,
      publications: [],
      more: false,
    });
    expect(presenceFrames('c', [member], '7').map((page) => JSON.parse(page))).toEqual([
      { type: 'presence', id: '7', channel: 'c', members: [member], more: false },
    ]);
    expect(JSON.parse(membershipFrame('leave', 'c', member))).toEqual({ type: 'leave', channel: 'c', member });
  });
});
