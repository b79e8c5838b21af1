import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DevServer } from '../../src/local/dev-server.js';
import { launchTestBrowser } from '../helpers/browser.js';
import { startTestServer } from '../helpers/dev-server.js';

// Drives public/index.html + public/chat.js in a real headless Chromium against the local emulator.
// Below vitest's 20 s test timeout, so a missing element fails with Playwright's own message.
const WAIT_MS = 8_000;

let browser: Browser;
let launchError: unknown;
let server: DevServer;

/** Opens the chat page in a fresh context (its own tab) and waits until its socket is open. */
async function openChat(httpUrl: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(WAIT_MS);
  await page.goto(`${httpUrl}/`);
  await page.waitForSelector('#status[data-state="open"]');
  return page;
}

async function send(page: Page, text: string): Promise<void> {
  await page.fill('#text', text);
  await page.click('#send');
}

/** The rendered chat message with this text, once it is there; returns its class and meta text. */
async function received(page: Page, text: string): Promise<{ className: string; meta: string }> {
  const item = page.locator('#messages li[data-type="message"]', { hasText: text });
  await item.waitFor();
  return {
    className: (await item.getAttribute('class')) ?? '',
    meta: (await item.locator('.meta').textContent()) ?? '',
  };
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

  it("relays a message between two tabs, marking it as mine only in the sender's tab", async () => {
    // Arrange: tab A connects first, so the connection the server gains is A's.
    const known = new Set(server.webSocketApi.connections.keys());
    const tabA = await openChat(server.httpUrl!);
    await expect.poll(() => [...server.webSocketApi.connections.keys()].filter((id) => !known.has(id))).toHaveLength(1);
    const idA = [...server.webSocketApi.connections.keys()].find((id) => !known.has(id))!;
    const tabB = await openChat(server.httpUrl!);

    // Act
    await send(tabA, 'hello from A');

    // Assert
    const inA = await received(tabA, 'hello from A');
    expect(inA.className).toContain('mine');
    expect(inA.meta).toMatch(/ · you$/);
    const inB = await received(tabB, 'hello from A');
    expect(inB.className).not.toContain('mine');
    expect(inB.meta).toMatch(new RegExp(` · ${idA.replace(/[^\w]/g, '\\$&')}$`));

    // Act: B replies.
    await send(tabB, 'hi back from B');

    // Assert
    const replyInA = await received(tabA, 'hi back from B');
    expect(replyInA.className).not.toContain('mine');
    expect(replyInA.meta).not.toMatch(/ · you$/);
    expect((await received(tabB, 'hi back from B')).meta).toMatch(/ · you$/);
  });

  it('shows a server-side publish with sender "server"', async () => {
    // Arrange
    const tab = await openChat(server.httpUrl!);

    // Act
    const response = await fetch(`${server.httpUrl}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: { text: 'from server' } }),
    });

    // Assert
    expect(response.status).toBe(202);
    const item = await received(tab, 'from server');
    expect(item.meta).toMatch(/ · server$/);
    expect(item.className).not.toContain('mine');
  });

  it('shows "closed" and offers Reconnect when the server goes away', async () => {
    // Arrange: a dedicated server, so closing it leaves the shared one alone.
    const doomed = await startTestServer();
    const tab = await openChat(doomed.httpUrl!);
    expect(await tab.locator('#reconnect').isVisible()).toBe(false);

    // Act
    await doomed.close();

    // Assert
    await tab.waitForSelector('#status[data-state="closed"]');
    await tab.locator('#reconnect').waitFor({ state: 'visible' });
    expect(await tab.locator('#status').textContent()).toBe('disconnected');

    // Act: reconnecting while the server is still down
    await tab.click('#reconnect');

    // Assert: the page says so and still offers Reconnect
    await tab.waitForSelector('#status[data-state="closed"]:has-text("cannot connect")');
    await tab.locator('#reconnect').waitFor({ state: 'visible' });
  });
});
