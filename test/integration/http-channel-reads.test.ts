import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpApi } from '../../src/aws/http-api.js';
import { EPOCH, expectError, fakeRelay, HISTORY_SIZE } from './server-api-fixtures.js';

/** What the HTTP API's history pages are held to: the WebSocket frame quota, 128 KB. */
const PAGE_LIMIT_BYTES = 128 * 1024;
/** Data that makes a message frame of a little over 30 KB: five of them do not fit one page. */
const BIG = 'x'.repeat(30 * 1024);

describe('GET /channels/{channel}/history and /presence through Fastify inject', () => {
  const fake = fakeRelay();
  const { relay, reads } = fake;
  let app: FastifyInstance;

  beforeAll(() => {
    app = buildHttpApi({ relay, websocketUrl: 'wss://example.test/prod' });
  });
  afterAll(() => app.close());

  const get = (url: string) => app.inject({ method: 'GET', url });
  /** Publishes `count` messages to `channel` through the relay; resolves with their message ids. */
  const publishMany = async (channel: string, count: number, data: (n: number) => unknown = (n) => ({ n })) => {
    const messageIds: string[] = [];
    for (let n = 1; n <= count; n++) messageIds.push((await relay.publish(channel, data(n))).messageId);
    return messageIds;
  };
  /** Follows `next` from `url` to the last page; every body, in order. */
  const allPages = async (url: string) => {
    const pages: { body: any; bytes: number }[] = [];
    for (let next: string | undefined = url; next !== undefined; next = pages.at(-1)!.body.next) {
      const response = await get(next);
      expect(response.statusCode).toBe(200);
      pages.push({ body: response.json(), bytes: response.rawPayload.byteLength });
    }
    return pages;
  };

  describe('history', () => {
    it('answers the position and the publications, oldest first, as the frames subscribers received', async () => {
      // Arrange
      const ids = await publishMany('chat:three', 3);

      // Act
      const response = await get('/channels/chat:three/history');

      // Assert
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.json()).toEqual({
        channel: 'chat:three',
        position: { offset: 3, epoch: EPOCH },
        publications: ids.map((id, i) => ({
          type: 'message',
          channel: 'chat:three',
          id,
          data: { n: i + 1 },
          from: null,
          user: null,
          ts: 1,
          offset: i + 1,
          epoch: EPOCH,
        })),
      });
    });

    it('passes limit, since with its epoch, and until on as numbers', async () => {
      await publishMany('chat:ranged', 6);

      const response = await get(`/channels/chat:ranged/history?limit=2&since=1&epoch=${EPOCH}&until=5`);

      expect(reads.at(-1)).toEqual({
        channel: 'chat:ranged',
        query: { limit: 2, since: { offset: 1, epoch: EPOCH }, until: 5 },
      });
      expect(response.json().publications.map((frame: { offset: number }) => frame.offset)).toEqual([4, 5]);
      expect(response.json().position).toEqual({ offset: 6, epoch: EPOCH });
    });

    it('asks for no range when the query gives none', async () => {
      await get('/channels/chat:plain-query/history');
      expect(reads.at(-1)).toEqual({ channel: 'chat:plain-query', query: {} });
    });

    it('takes numbers with leading zeros and the largest safe integer', async () => {
      await get(`/channels/chat:edges/history?limit=007&since=0&epoch=${EPOCH}&until=${Number.MAX_SAFE_INTEGER}`);
      expect(reads.at(-1)?.query).toEqual({
        limit: 7,
        since: { offset: 0, epoch: EPOCH },
        until: Number.MAX_SAFE_INTEGER,
      });
    });

    it('an unknown channel is an empty list with its position, not an error', async () => {
      const response = await get('/channels/chat:nobody-here/history');
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({
        channel: 'chat:nobody-here',
        position: { offset: 0, epoch: EPOCH },
        publications: [],
      });
    });

    it.each([
      ['a non-numeric limit', 'limit=ten', /"limit" must be a decimal integer from 1/],
      ['a negative limit', 'limit=-1', /"limit"/],
      ['a limit of 0', 'limit=0', /"limit" must be a decimal integer from 1/],
      ['a fractional limit', 'limit=1.5', /"limit"/],
      ['a limit in exponent notation', 'limit=1e2', /"limit"/],
      ['a hexadecimal limit', 'limit=0x10', /"limit"/],
      ['a limit with a sign', 'limit=%2B5', /"limit"/],
      ['a limit with a space', 'limit=%205', /"limit"/],
      ['an empty limit', 'limit=', /"limit"/],
      ['a limit above the largest safe integer', 'limit=9007199254740992', /"limit".*9007199254740991/],
      ['a limit given twice', 'limit=1&limit=2', /limit/],
      ['a non-numeric since', `since=last&epoch=${EPOCH}`, /"since" must be a decimal integer from 0/],
      ['a negative since', `since=-1&epoch=${EPOCH}`, /"since"/],
      ['a since above the largest safe integer', `since=99999999999999999999&epoch=${EPOCH}`, /"since"/],
      ['a non-numeric until', 'until=now', /"until" must be a decimal integer from 0/],
      ['a negative until', 'until=-3', /"until"/],
      ['since without epoch', 'since=3', /"since" and "epoch" go together/],
      ['epoch without since', `epoch=${EPOCH}`, /"since" and "epoch" go together/],
      ['an empty epoch', 'since=3&epoch=', /"epoch" must be 1-64 characters/],
      ['an epoch of 65 characters', `since=3&epoch=${'e'.repeat(65)}`, /"epoch" must be 1-64 characters/],
    ])('%s is a 400 invalid_request naming the parameter, and reads nothing', async (_name, query, message) => {
      const before = reads.length;
      expect(expectError(await get(`/channels/chat:lobby/history?${query}`), 400, 'invalid_request')).toMatch(message);
      expect(reads.length).toBe(before);
    });

    it("a limit over the namespace's historySize is the relay's 400 invalid_request", async () => {
      const response = await get(`/channels/chat:lobby/history?limit=${HISTORY_SIZE + 1}`);
      expect(expectError(response, 400, 'invalid_request')).toMatch(/historySize/);
    });

    it.each([
      ['of 129 characters', 'c'.repeat(129)],
      ['of 1000 characters', 'c'.repeat(1000)],
      ['with a space', 'chat%20lobby'],
      ['with a character outside the set', 'chat%23lobby'],
    ])('a channel name %s is a 400 invalid_channel, before the query is looked at', async (_name, encoded) => {
      const before = reads.length;
      const response = await get(`/channels/${encoded}/history?limit=none`);
      expect(expectError(response, 400, 'invalid_channel')).toMatch(/channel name/);
      expect(reads.length).toBe(before);
    });

    it('takes a percent-encoded channel name', async () => {
      await publishMany('chat:room@eu', 1);
      const response = await get('/channels/chat%3Aroom%40eu/history');
      expect(response.json()).toMatchObject({ channel: 'chat:room@eu', position: { offset: 1 } });
    });

    describe('over 128 KB', () => {
      it('comes in pages of at most 128 KB; each next URL gives the rest, every publication once, in order', async () => {
        // Arrange: 10 frames of 30 KB, 300 KB in all.
        await publishMany('chat:big', 10, () => BIG);

        // Act
        const pages = await allPages('/channels/chat:big/history');

        // Assert
        expect(pages.length).toBeGreaterThanOrEqual(3);
        for (const { bytes } of pages) expect(bytes).toBeLessThanOrEqual(PAGE_LIMIT_BYTES);
        const offsets = pages.flatMap(({ body }) => body.publications.map((frame: { offset: number }) => frame.offset));
        expect(offsets).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect(pages.at(-1)!.body).not.toHaveProperty('next');
      });

      it('names the next page by the last offset sent, the position read, the epoch, and how many are left', async () => {
        await publishMany('chat:big-next', 10, () => BIG);

        const first = (await get('/channels/chat:big-next/history')).json();

        const sent = first.publications.length;
        const since = first.publications.at(-1).offset;
        expect(since).toBe(sent);
        expect(first.next).toBe(
          `/channels/chat%3Abig-next/history?since=${sent}&until=10&epoch=${EPOCH}&limit=${10 - sent}`,
        );
      });

      it('pins the pages: publications arriving after the first page do not shift the rest', async () => {
        // Arrange
        await publishMany('chat:big-moving', 10, () => BIG);
        const first = (await get('/channels/chat:big-moving/history')).json();
        await publishMany('chat:big-moving', 2, () => 'late');

        // Act
        const rest = await allPages(first.next);

        // Assert
        const offsets = [first, ...rest.map(({ body }) => body)].flatMap(({ publications }) =>
          publications.map((frame: { offset: number }) => frame.offset),
        );
        expect(offsets).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect(rest.at(-1)!.body.position).toEqual({ offset: 12, epoch: EPOCH });
      });

      it('with a limit, pages through the latest `limit` only', async () => {
        await publishMany('chat:big-limited', 10, () => BIG);

        const pages = await allPages('/channels/chat:big-limited/history?limit=6');

        const offsets = pages.flatMap(({ body }) => body.publications.map((frame: { offset: number }) => frame.offset));
        expect(offsets).toEqual([5, 6, 7, 8, 9, 10]);
      });

      it('with an until, keeps to it in every next URL', async () => {
        await publishMany('chat:big-until', 10, () => BIG);

        const pages = await allPages('/channels/chat:big-until/history?until=8');

        const offsets = pages.flatMap(({ body }) => body.publications.map((frame: { offset: number }) => frame.offset));
        expect(offsets).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
        expect(pages[0]!.body.next).toMatch(/until=8&/);
      });
    });
  });

  describe('presence', () => {
    it('lists the channel members with their userId and info', async () => {
      fake.connectAs({ connectionId: 'c1', userId: 'alice', info: { name: 'Alice' } }, 'chat:room');
      fake.connect('c2', 'chat:room');

      const response = await get('/channels/chat:room/presence');

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({
        channel: 'chat:room',
        members: [
          { connectionId: 'c1', userId: 'alice', info: { name: 'Alice' } },
          { connectionId: 'c2', userId: null, info: null },
        ],
      });
    });

    it('an empty channel has no members', async () => {
      expect((await get('/channels/chat:empty/presence')).json()).toEqual({ channel: 'chat:empty', members: [] });
    });

    it('a namespace without presence is a 403 forbidden', async () => {
      expect(expectError(await get('/channels/plain:x/presence'), 403, 'forbidden')).toMatch(/presence/);
    });

    it('a bad channel name is a 400 invalid_channel and reads nothing', async () => {
      const before = reads.length;
      expectError(await get(`/channels/${'c'.repeat(129)}/presence`), 400, 'invalid_channel');
      expect(reads.length).toBe(before);
    });
  });
});
