import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Client, type ClientOptions, createClient, type StateEvent } from '../../src/client/index.js';
import type { DevServer } from '../../src/local/dev-server.js';
import {
  callServerApi,
  mintToken,
  startChannelServer,
  startTestServer,
  TEST_JWT_SECRET,
  unique,
} from '../helpers/dev-server.js';
import { connectClient, within } from '../helpers/ws-client.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` until it holds; fails naming `what` after `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** A library client in Node 20 (ws's WebSocket), connected; resolves with its connection id on the server. */
async function connectLibraryClient(server: DevServer, options: Partial<ClientOptions> = {}) {
  const before = new Set(server.webSocketApi.connections.keys());
  const states: StateEvent[] = [];
  const client = createClient({ url: server.wsUrl, WebSocket, backoff: { baseMs: 100, capMs: 1000 }, ...options });
  client.on('state', (event) => states.push(event));
  await until(() => client.state === 'connected', 5000, 'connected');
  const added = [...server.webSocketApi.connections.keys()].filter((id) => !before.has(id));
  expect(added).toHaveLength(1);
  return { client, states, connectionId: added[0]! };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('the client library against npm run dev', () => {
  let server: DevServer;
  const clients: Client[] = [];

  beforeAll(async () => {
    server = await startChannelServer();
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await server?.close();
  });

  it('a subscriber whose connection is cut (DELETE /connections/{id}) while 50 are published gets every offset once, in order', async () => {
    const channel = unique('chat:library-');
    let tokens = 0;
    const subscriber = await connectLibraryClient(server, {
      token: () => {
        tokens++;
        return mintToken({ sub: unique('reader-') });
      },
    });
    const publisher = await connectLibraryClient(server, { token: await mintToken({ sub: unique('writer-') }) });
    clients.push(subscriber.client, publisher.client);
    const delivered: number[] = [];
    const recovered: boolean[] = [];
    let start: number | undefined;
    subscriber.client.subscribe(channel, (message) => delivered.push(message.offset), {
      onSubscribed: (position) => (start ??= position.offset),
      onRecovered: (value) => recovered.push(value),
    });
    await until(() => start !== undefined, 5000, 'subscribed');

    // Five at a time, so deliveries also race one another (API Gateway runs them concurrently).
    const acks: number[] = [];
    let acksWhenCut: number | undefined;
    subscriber.client.on('state', ({ state }) => {
      if (state === 'reconnecting') acksWhenCut ??= acks.length;
    });
    let cut: Promise<{ status: number }> | undefined;
    for (let batch = 0; batch < 10; batch++) {
      const sent = Array.from({ length: 5 }, (_, i) => publisher.client.publish(channel, { n: batch * 5 + i }));
      for (const ack of await Promise.all(sent)) acks.push(ack.offset);
      if (batch === 1) {
        cut = callServerApi(server, 'DELETE', `/connections/${encodeURIComponent(subscriber.connectionId)}`);
      }
    }
    expect((await cut!).status).toBeLessThan(300);
    await until(() => delivered.length >= 50, 10_000, 'all 50 delivered');
    await sleep(500); // a repeat would arrive now

    const expected = range(start! + 1, start! + 50);
    expect([...acks].sort((a, b) => a - b)).toEqual(expected);
    expect(delivered).toEqual(expected);
    // The cut fell among the publications: some were published while the subscriber was away.
    expect(acksWhenCut).toBeLessThan(40);
    expect(subscriber.states.find((s) => s.state === 'reconnecting')?.reason).toMatch(/^closed 1000/);
    expect(recovered).toEqual([true]);
    expect(tokens).toBe(2);
  }, 30_000);

  it('presence and history through the library', async () => {
    const channel = unique('chat:library-');
    const { client, connectionId } = await connectLibraryClient(server, { token: await mintToken({ sub: 'carol' }) });
    clients.push(client);
    let subscribed = false;
    client.subscribe(channel, () => {}, { onSubscribed: () => (subscribed = true) });
    await until(() => subscribed, 5000, 'subscribed');
    await client.publish(channel, 'one');
    await client.publish(channel, 'two');

    const members = await client.presence(channel);
    const history = await client.history(channel, { limit: 10 });

    expect(members).toEqual([{ connectionId, userId: 'carol', info: null }]);
    expect(history.publications.map((p) => p.data)).toEqual(['one', 'two']);
  });

  it('a token the authorizer refuses (401, as ws reports it) closes the client: no reconnect', async () => {
    let attempts = 0;
    const client = createClient({
      url: server.wsUrl,
      WebSocket,
      backoff: { baseMs: 10, capMs: 10 },
      token: () => {
        attempts++;
        return mintToken({ sub: 'late' }, { expiresIn: Math.floor(Date.now() / 1000) - 60 });
      },
    });
    clients.push(client);
    const reasons: (string | undefined)[] = [];
    client.on('state', ({ reason }) => reasons.push(reason));

    await until(() => client.state === 'closed', 5000, 'closed');
    await sleep(300);

    expect(attempts).toBe(1);
    expect(reasons).toEqual([expect.stringMatching(/^handshake refused: .*401/)]);
  });

  it('an unknown channel name is refused with its protocol code', async () => {
    const { client } = await connectLibraryClient(server);
    clients.push(client);

    await expect(client.publish('bad channel!', 1)).rejects.toMatchObject({ code: 'invalid_channel' });
  });
});

describe('the heartbeat against an idle timeout of 3 s (--idle-timeout 3)', () => {
  it('a quiet client pinging every second stays connected for 8 s, while a silent socket is closed', async () => {
    const server = await startTestServer({ limits: { idleTimeoutSeconds: 3 } });
    try {
      const silent = await connectClient(server.wsUrl);
      const { client, states } = await connectLibraryClient(server, { heartbeatIntervalMs: 1000 });

      await sleep(8000);

      expect((await within(silent.closed, 100, 'the silent socket closing')).code).toBe(1001);
      expect(client.state).toBe('connected');
      expect(states.map((s) => s.state)).toEqual(['connected']);
      client.close();
    } finally {
      await server.close();
    }
  }, 30_000);
});

describe('the duration limit at 4 s (--max-connection-duration 4)', () => {
  it('clients handing over every 1.5 s keep a channel exactly once, in order, for 9 s, without a reconnect', async () => {
    const limited = await startTestServer({
      env: { ...process.env, JWT_SECRET: TEST_JWT_SECRET },
      limits: { maxConnectionSeconds: 4 },
    });
    const opened: string[] = [];
    /** ws, counting the connections each client opens. */
    const counting = (name: string) =>
      class extends WebSocket {
        constructor(url: string) {
          super(url);
          opened.push(name);
        }
      };
    try {
      const channel = unique('chat:duration-');
      const handover = { maxConnectionMs: 1500 };
      const as = (name: string) => ({ ...handover, WebSocket: counting(name), token: () => mintToken({ sub: name }) });
      const subscriber = await connectLibraryClient(limited, as('subscriber'));
      const publisher = await connectLibraryClient(limited, as('publisher'));
      const delivered: number[] = [];
      let start: number | undefined;
      subscriber.client.subscribe(channel, (message) => delivered.push(message.offset), {
        onSubscribed: (position) => (start ??= position.offset),
      });
      await until(() => start !== undefined, 5000, 'subscribed');

      // A publication every 50 ms, two in flight at a time, across the handovers of both clients.
      const acks: number[] = [];
      const stopAt = Date.now() + 9000;
      while (Date.now() < stopAt) {
        const pair = [publisher.client.publish(channel, { at: Date.now() }), publisher.client.publish(channel, 0)];
        for (const ack of await Promise.all(pair)) acks.push(ack.offset);
        await sleep(50);
      }
      await until(() => delivered.length >= acks.length, 10_000, 'every acked publication delivered');
      await sleep(500); // a repeat would arrive now

      const expected = range(start! + 1, start! + acks.length);
      expect([...acks].sort((a, b) => a - b)).toEqual(expected);
      expect(delivered).toEqual(expected);
      // Each handed over at least 4 times (every 1.5 s from its handshake), and never fell back to reconnecting.
      expect(opened.filter((name) => name === 'subscriber').length).toBeGreaterThanOrEqual(5);
      expect(opened.filter((name) => name === 'publisher').length).toBeGreaterThanOrEqual(5);
      for (const { states } of [subscriber, publisher]) expect(states.map((s) => s.state)).toEqual(['connected']);
      subscriber.client.close();
      publisher.client.close();
    } finally {
      await limited.close();
    }
  }, 40_000);
});
