import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGAINST_AWS, echo, openProbe, startTarget, type Target } from './target.js';

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

  it('a larger message closes the connection with 1009, even in small frames', async () => {
    const client = await openProbe(target);
    sendFragmented(client.socket, JSON.stringify({ action: 'echo', pad: 'x'.repeat(128 * 1024) }));
    expect((await client.closed).code).toBe(1009);
  });

  it('$disconnect reports the 1009 the client saw', async () => {
    const watcher = await openProbe(target);
    const watcherId = (await echo(watcher)).event.requestContext.connectionId;
    const client = await openProbe(target, { query: { watcher: watcherId } });

    client.send({ action: 'silent', pad: 'x'.repeat(40 * 1024) });
    const report = await watcher.next(10_000);

    expect((await client.closed).code).toBe(1009);
    expect(report.event.requestContext.disconnectStatusCode).toBe(1009);
    await watcher.close();
  });

  it('a single frame over 32 KB closes the connection with 1009 (browsers never fragment)', async () => {
    const client = await openProbe(target);
    client.send({ action: 'silent', pad: 'x'.repeat(40 * 1024) });
    expect((await client.closed).code).toBe(1009);
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
