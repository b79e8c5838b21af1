import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DevServer } from '../../src/local/dev-server.js';
import { launchTestBrowser } from '../helpers/browser.js';
import { startTestServer } from '../helpers/dev-server.js';
import { within } from '../helpers/ws-client.js';

// Drives public/index.html + public/chat.js in a real headless Chromium against the local emulator
// (npm run dev's server: dev tokens, the authorizer, protocol v1, the server API).
// Below vitest's 20 s test timeout, so a missing element fails with Playwright's own message.
const WAIT_MS = 8_000;
/** How long a frame that should not come is given to come anyway. */
const QUIET_MS = 400;

let browser: Browser;
let launchError: unknown;
let server: DevServer;

/** A fresh context (its own tab and storage), at the chat page; `before` runs before it loads. */
async function newTab(httpUrl: string, before?: (page: Page) => Promise<void>): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(WAIT_MS);
  await before?.(page);
  await page.goto(`${httpUrl}/`);
  return page;
}

/** Opens the chat page, signs in with a nickname (a dev token) and waits until its socket is open. */
async function openChat(httpUrl: string, nickname: string, before?: (page: Page) => Promise<void>): Promise<Page> {
  const page = await newTab(httpUrl, before);
  await page.fill('#nickname', nickname);
  await page.click('#signin-submit');
  await page.waitForSelector('#status[data-state="open"]');
  expect(await page.locator('#whoami').textContent()).toBe(nickname);
  return page;
}

/** As openChat, with the id of the connection the page opened (the one the shared server did not have before). */
async function openChatWithId(httpUrl: string, nickname: string): Promise<[Page, string]> {
  const known = new Set(server.webSocketApi.connections.keys());
  const page = await openChat(httpUrl, nickname);
  const ids = [...server.webSocketApi.connections.keys()].filter((id) => !known.has(id));
  expect(ids).toHaveLength(1);
  return [page, ids[0]!];
}

/** Closes a connection through the server API, as a network change or API Gateway would. */
function cut(connectionId: string): Promise<Response> {
  return fetch(`${server.httpUrl}/connections/${encodeURIComponent(connectionId)}`, { method: 'DELETE' });
}

/** The `nth` time (from 0) the page told of entering `state`, once it has: its text. */
async function stateNotice(page: Page, state: string, nth: number): Promise<string> {
  const item = page.locator(`#messages li[data-type="state"][data-state="${state}"]`).nth(nth);
  await item.waitFor();
  return (await item.textContent()) ?? '';
}

/** The texts of the messages of one channel the page shows, in the order shown. */
function texts(page: Page, channel: string): Promise<string[]> {
  return page
    .locator(`#messages li[data-type="message"][data-channel="${channel}"]`)
    .evaluateAll((items) => items.map((item) => item.lastChild?.textContent ?? ''));
}

/** The names in the page's "who is online" list. */
function members(page: Page): Promise<string[]> {
  return page.locator('#members li').allTextContents();
}

const room = (page: Page, channel: string) => page.locator(`#room-list li[data-channel="${channel}"]`);

/** Joins one of the listed rooms with its button; it becomes the room the composer publishes to. */
async function join(page: Page, channel: string): Promise<void> {
  await room(page, channel).locator('.toggle').click();
  await room(page, channel).and(page.locator('[data-state="joined"].active')).waitFor();
}

async function leave(page: Page, channel: string): Promise<void> {
  await room(page, channel).locator('.toggle').click();
  await room(page, channel).and(page.locator('[data-state="left"]')).waitFor();
}

async function joinByName(page: Page, name: string): Promise<void> {
  await page.fill('#room-name', name);
  await page.click('#join-room');
}

/** Publishes to the room the composer shows. */
async function send(page: Page, text: string): Promise<void> {
  await page.fill('#text', text);
  await page.click('#send');
}

/** The rendered message with this text, once it is there: its room, its sender as shown, its class. */
async function received(page: Page, text: string) {
  const item = page.locator('#messages li[data-type="message"]', { hasText: text });
  await item.waitFor();
  return {
    channel: await item.getAttribute('data-channel'),
    room: await item.locator('.room').textContent(),
    who: await item.locator('.who').textContent(),
    className: (await item.getAttribute('class')) ?? '',
  };
}

/** The texts of every message the page shows. */
async function shown(page: Page): Promise<string[]> {
  return page.locator('#messages li[data-type="message"]').allTextContents();
}

/** The error the page shows for `code`, once it is there. */
async function shownError(page: Page, code: string): Promise<string> {
  const item = page.locator(`#messages li[data-type="error"][data-code="${code}"]`);
  await item.waitFor();
  return (await item.textContent()) ?? '';
}

const quiet = () => new Promise((resolve) => setTimeout(resolve, QUIET_MS));

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${server.httpUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('demo chat page in a browser', () => {
  beforeAll(async () => {
    try {
      browser = await launchTestBrowser();
    } catch (error) {
      launchError = error;
      return;
    }
    server = await startTestServer();
  });

  // No browser fails every test here: a failed beforeAll would report them as skipped.
  beforeEach(() => {
    if (launchError) throw launchError;
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('two named users chat in chat:lobby; a third, in chat:random, receives nothing from it', async () => {
    // Arrange
    const alice = await openChat(server.httpUrl!, 'Alice');
    const bob = await openChat(server.httpUrl!, 'Bob');
    const carol = await openChat(server.httpUrl!, 'Carol');
    await join(alice, 'chat:lobby');
    await join(bob, 'chat:lobby');
    await join(carol, 'chat:random');

    // Act
    await send(alice, 'hello lobby');

    // Assert: by name, in its room, marked as mine only in the sender's tab
    expect(await received(bob, 'hello lobby')).toMatchObject({ channel: 'chat:lobby', room: '#lobby', who: 'Alice' });
    const inAlice = await received(alice, 'hello lobby');
    expect(inAlice).toMatchObject({ channel: 'chat:lobby', who: 'Alice (you)' });
    expect(inAlice.className).toContain('mine');

    // Act: Bob answers, Carol talks in her own room.
    await send(bob, 'hi Alice');
    await send(carol, 'anyone in random?');

    // Assert
    const reply = await received(alice, 'hi Alice');
    expect(reply).toMatchObject({ channel: 'chat:lobby', who: 'Bob' });
    expect(reply.className).not.toContain('mine');
    expect(await received(carol, 'anyone in random?')).toMatchObject({ channel: 'chat:random', who: 'Carol (you)' });
    await received(bob, 'hi Alice');
    await quiet();
    expect(await shown(carol)).toEqual([expect.stringContaining('anyone in random?')]);
    expect(await shown(alice)).not.toContainEqual(expect.stringContaining('anyone in random?'));

    // Act: Bob leaves the lobby.
    await leave(bob, 'chat:lobby');
    await send(alice, 'bob has left');

    // Assert
    await received(alice, 'bob has left');
    await quiet();
    expect(await shown(bob)).not.toContainEqual(expect.stringContaining('bob has left'));
  });

  it('joins a room by name, and shows a refused one as an error', async () => {
    // Arrange
    const dana = await openChat(server.httpUrl!, 'Dana');
    const erin = await openChat(server.httpUrl!, 'Erin');

    // Act: a bare name is a chat room.
    await joinByName(dana, 'games');
    await joinByName(erin, 'chat:games');
    await room(dana, 'chat:games').and(dana.locator('[data-state="joined"].active')).waitFor();
    await room(erin, 'chat:games').and(erin.locator('[data-state="joined"].active')).waitFor();
    await send(dana, 'gg');

    // Assert
    expect(await received(erin, 'gg')).toMatchObject({ channel: 'chat:games', room: '#games', who: 'Dana' });

    // Act: someone else's personal channel, then a name no channel can have.
    await joinByName(dana, 'user:Erin');
    await joinByName(dana, 'no spaces!');

    // Assert: each refusal is shown, naming what was asked, and the room does not stay in the list.
    expect(await shownError(dana, 'forbidden')).toContain('subscribe user:Erin');
    expect(await shownError(dana, 'invalid_channel')).toContain('subscribe chat:no spaces!');
    await expect.poll(() => room(dana, 'user:Erin').count()).toBe(0);
    expect(await dana.locator('#status').getAttribute('data-state')).toBe('open');
  });

  it('shows server API messages as from "server": to a room, to everyone, to one user', async () => {
    // Arrange
    const frank = await openChat(server.httpUrl!, 'Frank');
    await join(frank, 'chat:lobby');

    // Act
    const responses = [
      await post('/channels/chat:lobby/messages', { data: { text: 'lobby notice' } }),
      await post('/messages', { data: { text: 'notice for everyone' } }),
      await post('/users/Frank/messages', { data: { text: 'just for Frank' } }),
    ];

    // Assert
    expect(responses.map((response) => response.status)).toEqual([202, 202, 202]);
    const toRoom = await received(frank, 'lobby notice');
    expect(toRoom).toMatchObject({ channel: 'chat:lobby', who: 'server' });
    expect(toRoom.className).toContain('server');
    expect(toRoom.className).not.toContain('mine');
    expect(await received(frank, 'notice for everyone')).toMatchObject({ channel: 'default', room: 'everyone' });
    expect(await received(frank, 'just for Frank')).toMatchObject({ channel: 'user:Frank', room: 'to you' });
  });

  it('without POST /dev/token (as on AWS) asks for a token, or connects anonymously', async () => {
    // Arrange: the route answers 404, as the HTTP API on AWS does.
    const { token } = (await (await post('/dev/token', { user: 'gina', info: { name: 'Gina' } })).json()) as {
      token: string;
    };
    const pasted = await newTab(server.httpUrl!);
    const anonymous = await newTab(server.httpUrl!);
    for (const page of [pasted, anonymous]) {
      await page.route('**/dev/token', (route) =>
        route.fulfill({ status: 404, contentType: 'application/json', body: '{"error":"not_found","message":"-"}' }),
      );
      await page.fill('#nickname', 'whoever');
      await page.click('#signin-submit');
      await page.locator('#token-panel').waitFor();
    }

    // Act
    await pasted.fill('#token', token);
    await pasted.click('#token-connect');
    await anonymous.click('#anonymous');

    // Assert
    for (const page of [pasted, anonymous]) await page.waitForSelector('#status[data-state="open"]');
    expect(await pasted.locator('#whoami').textContent()).toBe('gina');
    expect(await anonymous.locator('#whoami').textContent()).toBe('anonymous');
    await send(anonymous, 'hello from nobody');
    expect(await received(pasted, 'hello from nobody')).toMatchObject({ channel: 'default', who: 'anonymous' });
    await join(pasted, 'chat:lobby');
    await send(pasted, 'gina here');
    expect(await received(pasted, 'gina here')).toMatchObject({ who: 'Gina (you)' });
  });

  it('shows a refused publish with its code; a room read without presence or history capabilities works', async () => {
    // Arrange: a token that may only subscribe to chat rooms (no publish, presence or history), pasted.
    const response = await post('/dev/token', { user: 'reader', channels: { 'chat:*': ['subscribe'] } });
    const { token } = (await response.json()) as { token: string };
    const page = await newTab(server.httpUrl!);
    await page.route('**/dev/token', (route) => route.fulfill({ status: 404, body: '' }));
    await page.fill('#nickname', 'reader');
    await page.click('#signin-submit');
    await page.fill('#token', token);
    await page.click('#token-connect');
    await page.waitForSelector('#status[data-state="open"]');
    await join(page, 'chat:random');

    // Act
    await send(page, 'may I?');

    // Assert: the refusal names its code and what was asked; the connection stays.
    expect(await shownError(page, 'forbidden')).toContain('publish chat:random');
    expect(await page.locator('#status').getAttribute('data-state')).toBe('open');
    await post('/channels/chat:random/messages', { data: { text: 'read this' } });
    expect(await received(page, 'read this')).toMatchObject({ channel: 'chat:random', who: 'server' });
    expect(await page.locator('#messages li[data-type="error"]').count()).toBe(1);
  });

  it('says so when the token is refused', async () => {
    const page = await newTab(server.httpUrl!);
    await page.route('**/dev/token', (route) => route.fulfill({ status: 404, body: '' }));
    await page.fill('#nickname', 'mallory');
    await page.click('#signin-submit');
    await page.fill('#token', 'not.a.jwt');
    await page.click('#token-connect');

    await page.waitForSelector('#status[data-state="closed"]:has-text("refused")');
    await page.locator('#reconnect').waitFor({ state: 'visible' });
    // The page saw that the token is not a JWT (a browser cannot see the 401); Reconnect tries again.
    expect(await stateNotice(page, 'closed', 0)).toContain('handshake refused');

    await page.click('#reconnect');

    await stateNotice(page, 'closed', 1);
    await page.waitForSelector('#status[data-state="closed"]:has-text("refused")');
    await page.locator('#reconnect').waitFor({ state: 'visible' });
  });

  it('shows a closed connection (DELETE /connections/{id}) with its reason, and reconnects by itself into its rooms', async () => {
    // Arrange
    const [hank, connectionId] = await openChatWithId(server.httpUrl!, 'Hank');
    await join(hank, 'chat:random');

    // Act
    const response = await cut(connectionId);

    // Assert: the loss is told with its reason, then the library reconnects without a click.
    expect(response.status).toBe(204);
    expect(await stateNotice(hank, 'reconnecting', 0)).toMatch(/reconnecting: closed \d+/);
    await stateNotice(hank, 'connected', 1);
    await hank.waitForSelector('#status[data-state="open"]');
    expect(await hank.locator('#reconnect').isVisible()).toBe(false);
    await room(hank, 'chat:random').and(hank.locator('[data-state="joined"]')).waitFor();
    await post('/channels/chat:random/messages', { data: { text: 'welcome back' } });
    expect(await received(hank, 'welcome back')).toMatchObject({ channel: 'chat:random', who: 'server' });
  });

  it('keeps reconnecting, and says why, when the server goes away', async () => {
    // Arrange: a dedicated server, so closing it leaves the shared one alone.
    const doomed = await startTestServer();
    const tab = await openChat(doomed.httpUrl!, 'Ivy');
    expect(await tab.locator('#reconnect').isVisible()).toBe(false);

    // Act
    await doomed.close();

    // Assert: reconnecting (the dev token cannot be fetched either), with the reason, and no give-up.
    await tab.waitForSelector('#status[data-state="reconnecting"]');
    expect(await tab.locator('#status').textContent()).toMatch(/^reconnecting… \(.+\)$/);
    await expect
      .poll(() => tab.locator('#messages li[data-type="state"][data-state="reconnecting"]').count())
      .toBeGreaterThan(1);
    expect(await tab.locator('#status').getAttribute('data-state')).toBe('reconnecting');
  });

  it('rides out a restart of the server that refuses every handshake for seconds, and says what may be missing', async () => {
    // Arrange: a pasted token (no token fetch to fail: every failed attempt is a failed handshake, which a
    // browser cannot tell from a refused one), on a dedicated server to restart on the same ports.
    const first = await startTestServer();
    const ports = { httpPort: Number(new URL(first.httpUrl!).port), wsPort: Number(new URL(first.wsUrl).port) };
    const signed = await fetch(`${first.httpUrl}/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'olga', info: { name: 'Olga' } }),
    });
    const { token } = (await signed.json()) as { token: string };
    const tab = await newTab(first.httpUrl!, async (page) => {
      await page.route('**/dev/token', (route) => route.fulfill({ status: 404, body: '' }));
    });
    await tab.fill('#nickname', 'Olga');
    await tab.click('#signin-submit');
    await tab.fill('#token', token);
    await tab.click('#token-connect');
    await tab.waitForSelector('#status[data-state="open"]');
    await join(tab, 'chat:lobby');
    let second: DevServer | undefined;

    try {
      // Act: the server is gone for more failed attempts than the page used to allow (4).
      await within(first.close(), 20_000, 'the first server stopping');
      await expect
        .poll(() => tab.locator('#messages li[data-type="state"][data-state="reconnecting"]').count(), {
          timeout: 25_000,
        })
        .toBeGreaterThan(5);
      expect(await tab.locator('#status').textContent()).toContain('still trying');
      second = await within(startTestServer(ports), 30_000, 'the server starting again on the same ports');

      // Assert: back by itself, in its room; the new server's streams are new, so it says messages may be missing.
      // The page's backoff is capped at 10 s: the next attempt comes within that, even on a loaded machine.
      await tab.waitForSelector('#status[data-state="open"]', { timeout: 25_000 });
      await room(tab, 'chat:lobby').and(tab.locator('[data-state="joined"]')).waitFor();
      expect(await tab.locator('#messages li[data-type="recovery"]').textContent()).toContain('#lobby');
      expect(await tab.locator('#messages li[data-type="state"][data-state="closed"]').count()).toBe(0);
      await fetch(`${second.httpUrl}/channels/chat:lobby/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ data: { text: 'after the restart' } }),
      });
      expect(await received(tab, 'after the restart')).toMatchObject({ channel: 'chat:lobby', who: 'server' });
    } finally {
      await second?.close();
    }
  }, 90_000);

  it('under --idle-timeout 3 --max-connection-duration 6, two pages chat for 9 s without a reconnect, each message once, in order', async () => {
    // Arrange: the page reads the limits from config.json: a ping every 1.5 s, a handover every 3 s. That leaves
    // 3 s for a handover (a handshake, three subscribes) on a machine busy with the rest of the tests.
    const limited = await startTestServer({ limits: { idleTimeoutSeconds: 3, maxConnectionSeconds: 6 } });
    try {
      const reader = await openChat(limited.httpUrl!, 'Pia'); // never sends: only the heartbeat keeps it open
      const writer = await openChat(limited.httpUrl!, 'Quinn');
      await join(reader, 'chat:lobby');
      await join(writer, 'chat:lobby');
      const sent = Array.from({ length: 12 }, (_, i) => `tick ${i + 1}`);

      // Act: a message every 750 ms, across several handovers of both pages.
      for (const text of sent) {
        await send(writer, text);
        await new Promise((resolve) => setTimeout(resolve, 750));
      }

      // Assert
      await received(reader, sent.at(-1)!);
      await quiet();
      for (const page of [reader, writer]) {
        expect((await texts(page, 'chat:lobby')).filter((text) => sent.includes(text))).toEqual(sent);
        expect(await page.locator('#messages li[data-type="state"][data-state="reconnecting"]').count()).toBe(0);
        expect(await page.locator('#status').getAttribute('data-state')).toBe('open');
      }
      // Without handovers the 6 s limit would have cut each page at least once (a reconnecting notice each time).
      // Each handover closes the connection it replaced: one per page is left between handovers (one under way
      // holds two for a moment, longer on a busy machine).
      await expect.poll(() => limited.webSocketApi.connections.size, { timeout: 10_000 }).toBe(2);
    } finally {
      await limited.close();
    }
  }, 60_000);

  it('a page that loses its connection shows the messages sent meanwhile once, in order, when it is back', async () => {
    // Arrange: Jack and Kate in chat:lobby.
    const [jack, jackId] = await openChatWithId(server.httpUrl!, 'Jack');
    const kate = await openChat(server.httpUrl!, 'Kate');
    await join(jack, 'chat:lobby');
    await join(kate, 'chat:lobby');
    await send(kate, 'before the cut');
    await received(jack, 'before the cut');
    // Jack's next connection waits for its token until Kate has said everything.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    await jack.route('**/dev/token', async (route) => {
      await held;
      await route.continue();
    });

    // Act: Jack's connection is cut; Kate talks meanwhile.
    expect((await cut(jackId)).status).toBe(204);
    await stateNotice(jack, 'reconnecting', 0);
    const meanwhile = ['while away 1', 'while away 2', 'while away 3', 'while away 4', 'while away 5'];
    for (const text of meanwhile) await send(kate, text);
    for (const text of meanwhile) await received(kate, text);
    expect(await texts(jack, 'chat:lobby')).not.toContain('while away 1');
    release();

    // Assert: back, every message once, in order, then live ones after them.
    await stateNotice(jack, 'connected', 1);
    await received(jack, 'while away 5');
    await send(kate, 'welcome back Jack');
    await received(jack, 'welcome back Jack');
    await quiet();
    const expected = ['before the cut', ...meanwhile, 'welcome back Jack'];
    expect((await texts(jack, 'chat:lobby')).filter((text) => expected.includes(text))).toEqual(expected);
    expect((await texts(kate, 'chat:lobby')).filter((text) => expected.includes(text))).toEqual(expected);
  });

  it('shows who is online in the room, kept current by joins and leaves', async () => {
    // Arrange
    const [nora] = await openChatWithId(server.httpUrl!, 'Nora');
    const oscar = await openChat(server.httpUrl!, 'Oscar');
    for (const page of [nora, oscar]) {
      await joinByName(page, 'members');
      await room(page, 'chat:members').and(page.locator('[data-state="joined"].active')).waitFor();
    }

    // Assert: both see both (Nora through Oscar's join, Oscar through presence when joining).
    await expect.poll(() => members(nora)).toEqual(['Nora', 'Oscar']);
    await expect.poll(() => members(oscar)).toEqual(['Nora', 'Oscar']);
    expect(await nora.locator('#people-room').textContent()).toBe('#members');
    expect(await nora.locator('#members li.me').textContent()).toBe('Nora');

    // Act: Oscar leaves the room.
    await leave(oscar, 'chat:members');

    // Assert
    await expect.poll(() => members(nora)).toEqual(['Nora']);
  });

  it('shows the earlier messages of a room to a page that joins later, with their dates when not from today', async () => {
    // Arrange: Paul talks in chat:history before Quinn arrives; Quinn's clock is three days ahead.
    const paul = await openChat(server.httpUrl!, 'Paul');
    await joinByName(paul, 'history');
    await room(paul, 'chat:history').and(paul.locator('[data-state="joined"].active')).waitFor();
    await send(paul, 'earlier 1');
    await send(paul, 'earlier 2');
    await received(paul, 'earlier 2');
    const quinn = await openChat(server.httpUrl!, 'Quinn', async (page) => {
      await page.clock.setFixedTime(Date.now() + 3 * 24 * 3600_000);
    });

    // Act
    await joinByName(quinn, 'history');
    await room(quinn, 'chat:history').and(quinn.locator('[data-state="joined"].active')).waitFor();
    await received(quinn, 'earlier 2');
    await send(paul, 'live one');

    // Assert: history first, in order, then the live message, each once.
    await received(quinn, 'live one');
    await quiet();
    expect(await texts(quinn, 'chat:history')).toEqual(['earlier 1', 'earlier 2', 'live one']);
    // Old messages name their day (the year's four digits); today's show the time only.
    const time = (page: Page, text: string) =>
      page.locator('#messages li[data-type="message"]', { hasText: text }).locator('.time').textContent();
    expect(await time(quinn, 'earlier 1')).toMatch(/\d{4}/);
    expect(await time(paul, 'earlier 1')).not.toMatch(/\d{4}/);
  });
});
