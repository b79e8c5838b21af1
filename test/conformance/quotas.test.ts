import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendInThread } from '../helpers/threaded-sender.js';
import { AGAINST_AWS, echo, openProbe, startTarget, type Target } from './target.js';

/** Attempts per oversized case: before the fix, most large fragmented sends closed with 1006. */
const ATTEMPTS = 8;
/** What the probe's authorizer wants besides ?token=allow. */
const PROBE_HEADERS = { 'X-Probe': 'yes' };

describe('conformance: payload (128 KB) and frame (32 KB) quotas', () => {
  let target: Target;
  beforeAll(async () => {
    target = await startTarget('probe');
  });
  afterAll(() => target?.close());

  /** Sends `text` as one message split into frames of at most 32 KB, as AWS requires. */
  function sendFragmented(socket: import('ws').WebSocket, text: string): void {
    const frameSize = 32 * 1024;
    for (let offset = 0; offset < text.length; offset += frameSize) {
      socket.send(text.slice(offset, offset + frameSize), { fin: offset + frameSize >= text.length, binary: false });
    }
  }

  it('a message of exactly 128 KB in 32 KB frames is accepted', async () => {
    const client = await openProbe(target);
    const empty = JSON.stringify({ action: 'silent', pad: '' });
    sendFragmented(client.socket, JSON.stringify({ action: 'silent', pad: 'x'.repeat(128 * 1024 - empty.length) }));
    expect((await echo(client, { tag: 'ok' })).tag).toBe('ok');
    await client.close();
  });

  /**
   * Sends `text` from clients in their own threads, one after another, and returns every close
   * they saw. A close frame lost to a torn-down socket shows as 1006 in some attempts only.
   */
  async function closesOf(text: string, frameBytes: number): Promise<{ code: number; reason: string }[]> {
    const closes = [];
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      closes.push(await sendInThread({ url: `${target.wsUrl}?token=allow`, headers: PROBE_HEADERS, text, frameBytes }));
    }
    return closes;
  }
  /** AWS does not document its reason text; the emulator sends this one. */
  const tooBig = () => ({ code: 1009, reason: target.deployed ? expect.any(String) : 'Message too big' });

  it('a larger message closes the connection with 1009 and a reason, in small frames, every time', async () => {
    const empty = JSON.stringify({ action: 'silent', pad: '' });
    const justOver = JSON.stringify({ action: 'silent', pad: 'x'.repeat(128 * 1024 + 1 - empty.length) });
    // Far over: the client is still sending when the gateway closes (where 1006 used to show).
    const farOver = JSON.stringify({ action: 'silent', pad: 'x'.repeat(1024 * 1024) });

    expect(await closesOf(justOver, 32 * 1024)).toEqual(Array(ATTEMPTS).fill(tooBig()));
    expect(await closesOf(farOver, 32 * 1024)).toEqual(Array(ATTEMPTS).fill(tooBig()));
  }, 60_000);

  it('a single frame over 32 KB, or a whole message over 128 KB in one frame, closes with 1009 and a reason', async () => {
    const frame = JSON.stringify({ action: 'silent', pad: 'x'.repeat(40 * 1024) });
    const message = JSON.stringify({ action: 'silent', pad: 'x'.repeat(200 * 1024) });

    expect(await closesOf(frame, frame.length)).toEqual(Array(ATTEMPTS).fill(tooBig()));
    expect(await closesOf(message, message.length)).toEqual(Array(ATTEMPTS).fill(tooBig()));
  }, 60_000);

  it('$disconnect reports the 1009 the client saw', async () => {
    const watcher = await openProbe(target);
    const watcherId = (await echo(watcher)).event.requestContext.connectionId;
    const client = await openProbe(target, { query: { watcher: watcherId } });

    client.send({ action: 'silent', pad: 'x'.repeat(40 * 1024) });
    const report = await watcher.next(10_000);

    expect((await client.closed).code).toBe(1009);
    expect(report.event.requestContext.disconnectStatusCode).toBe(1009);
    if (!target.deployed) expect(report.event.requestContext.disconnectReason).toBe('Message too big');
    await watcher.close();
  });

  it('a single frame of 32 KB is accepted', async () => {
    const client = await openProbe(target);
    const empty = JSON.stringify({ action: 'silent', pad: '' });
    client.send(JSON.stringify({ action: 'silent', pad: 'x'.repeat(32 * 1024 - empty.length) }));
    expect((await echo(client, { tag: 'ok' })).tag).toBe('ok');
    await client.close();
  });
});

// AWS's own idle timeout (10 min) and duration limit (2 h) are too long to wait for.
describe.skipIf(AGAINST_AWS)('conformance (emulator only): idle timeout and connection duration', () => {
  let target: Target;
  beforeAll(async () => {
    target = await startTarget('probe', { idleTimeoutSeconds: 0.6, maxConnectionSeconds: 2 });
  });
  afterAll(() => target?.close());

  it('an idle connection is closed with 1001 and $disconnect reports it', async () => {
    const watcher = await openProbe(target);
    const watcherId = (await echo(watcher)).event.requestContext.connectionId;
    // Keep the watcher alive while the other connection idles.
    const keepAlive = setInterval(() => watcher.send({ action: 'silent' }), 200);
    const idle = await openProbe(target, { query: { watcher: watcherId } });

    const closed = await idle.closed;
    const report = await watcher.next(5_000);

    clearInterval(keepAlive);
    expect(closed.code).toBe(1001);
    expect(report.event.requestContext).toMatchObject({ disconnectStatusCode: 1001, disconnectReason: 'Going away' });
    await watcher.close();
  });

  it('activity keeps a connection open past the idle timeout, until the duration limit closes it (1001)', async () => {
    const client = await openProbe(target);
    const openedAt = Date.now();
    const keepAlive = setInterval(() => client.send({ action: 'silent' }), 200);

    const closed = await client.closed;

    clearInterval(keepAlive);
    expect(closed.code).toBe(1001);
    expect(Date.now() - openedAt).toBeGreaterThan(1_800);
  });
});
