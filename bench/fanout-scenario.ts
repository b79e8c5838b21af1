import WebSocket from 'ws';
import { SEND_MESSAGE_ACTION } from '../src/core/index.js';
import type { MemoryReport } from '../src/local/memory-probe.js';
import type { BenchTarget } from './targets.js';

/** One closed-loop fan-out run: N clients, M broadcasts, each sent once all have the previous. */
export interface FanoutRun {
  target: string;
  clients: number;
  broadcasts: number;
  connectionsPerSecond: number;
  /** Server memory per open connection after a full GC, bytes: heap + external (undefined for remote targets). */
  memoryPerConnection?: number;
  /** The same from the process's resident set, which also moves with heap sizing: context only. */
  rssPerConnection?: number;
  /** Time until the last client has a broadcast, ms. */
  completion: { p50: number; p99: number; mean: number };
  /** Time until each single client has a broadcast, ms. */
  delivery: { p50: number; p99: number };
  deliveriesPerSecond: number;
  /** Server CPU (all its threads) per delivery during the broadcasts, ms; undefined for remote targets. */
  serverCpuMsPerDelivery?: number;
  lost: number;
  duplicated: number;
  reordered: number;
  /** Broadcasts that did not reach every client within the per-broadcast timeout. */
  timedOut: number;
}

export interface ScenarioOptions {
  clients: number;
  broadcasts: number;
  /** Connections opened at once. */
  connectConcurrency?: number;
  /** Give up on a broadcast after this long. */
  broadcastTimeoutMs?: number;
}

interface Client {
  socket: WebSocket;
  seen: Set<number>;
  last: number;
  duplicated: number;
  reordered: number;
}

/** The p-th percentile of an ascending list (NaN when empty). */
export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/**
 * Connects N clients to `target`, then sends M messages from client 0, each once every client has
 * the previous one, and measures what each client receives. Both the raw server and Edge Relay
 * put the sent `data` under `.data`, so one parser serves both.
 */
export async function runFanout(target: BenchTarget, options: ScenarioOptions): Promise<FanoutRun> {
  const { clients: n, broadcasts: m } = options;
  const connectConcurrency = options.connectConcurrency ?? 100;
  const broadcastTimeoutMs = options.broadcastTimeoutMs ?? 30_000;
  // Warm up with the same storm first: the sandboxes it starts (each a worker thread with its own
  // heap) and the heaps it grows would otherwise be counted as memory per connection.
  await warmUp(target, n, connectConcurrency);
  const memoryBefore = await settle(target);
  // That reading forced a full collection, which also throws away compiled code and shrinks the
  // heaps; a developer's server never does that. A short storm warms them again, so the measured
  // one shows the server's steady pace, not the aftermath of the harness's collection.
  await rewarm(target, Math.min(n, 300), connectConcurrency);

  const clients: Client[] = [];
  let onReceive: (client: Client, seq: number) => void = () => {};
  const connectOne = () =>
    new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(target.wsUrl, { perMessageDeflate: false });
      const client: Client = { socket, seen: new Set(), last: -1, duplicated: 0, reordered: 0 };
      socket.on('message', (data) => {
        const seq = (JSON.parse(data.toString()) as { data?: { seq?: number } }).data?.seq;
        if (typeof seq !== 'number') return;
        if (client.seen.has(seq)) client.duplicated++;
        else if (seq < client.last) client.reordered++;
        client.seen.add(seq);
        client.last = Math.max(client.last, seq);
        onReceive(client, seq);
      });
      socket.once('open', () => {
        clients.push(client);
        resolve();
      });
      socket.once('error', reject);
    });

  const connectStarted = performance.now();
  for (let opened = 0; opened < n; opened += connectConcurrency) {
    await Promise.all(Array.from({ length: Math.min(connectConcurrency, n - opened) }, connectOne));
  }
  const connectSeconds = (performance.now() - connectStarted) / 1000;
  const memoryAfter = await settle(target);
  // Likewise before the measured broadcasts: ten that no client counts (they carry no seq), sent
  // back to back like the measured ones, so every sandbox the loop will use is started and warm
  // (a broadcast may arrive while the previous invocation is still returning).
  for (let i = 0; i < 10; i++) await broadcastUncounted(clients, n);

  const completions: number[] = [];
  const deliveries: number[] = [];
  let timedOut = 0;
  const loopStarted = performance.now();
  const cpuBefore = target.cpuSeconds();
  for (let seq = 0; seq < m; seq++) {
    const sentAt = performance.now();
    let remaining = n;
    const done = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), broadcastTimeoutMs);
      onReceive = (_client, received) => {
        if (received !== seq) return;
        deliveries.push(performance.now() - sentAt);
        if (--remaining === 0) {
          clearTimeout(timer);
          resolve(true);
        }
      };
    });
    sendBroadcast(clients[0]!.socket, { seq });
    if (await done) completions.push(performance.now() - sentAt);
    else timedOut++;
  }
  const loopSeconds = (performance.now() - loopStarted) / 1000;
  const cpuAfter = target.cpuSeconds();
  // Late or duplicate frames still count against their client.
  await new Promise((resolve) => setTimeout(resolve, 200));

  const sortedDeliveries = sorted(deliveries);
  const result: FanoutRun = {
    target: target.name,
    clients: n,
    broadcasts: m,
    connectionsPerSecond: n / connectSeconds,
    memoryPerConnection:
      memoryBefore && memoryAfter ? (memoryAfter.retainedBytes - memoryBefore.retainedBytes) / n : undefined,
    rssPerConnection: memoryBefore && memoryAfter ? (memoryAfter.rssBytes - memoryBefore.rssBytes) / n : undefined,
    completion: summarize(completions),
    delivery: { p50: percentile(sortedDeliveries, 50), p99: percentile(sortedDeliveries, 99) },
    deliveriesPerSecond: deliveries.length / loopSeconds,
    serverCpuMsPerDelivery:
      cpuBefore !== undefined && cpuAfter !== undefined
        ? ((cpuAfter - cpuBefore) * 1000) / Math.max(1, deliveries.length)
        : undefined,
    lost: clients.reduce((sum, c) => sum + (m - c.seen.size), 0),
    duplicated: clients.reduce((sum, c) => sum + c.duplicated, 0),
    reordered: clients.reduce((sum, c) => sum + c.reordered, 0),
    timedOut,
  };

  await Promise.all(
    clients.map(
      (c) =>
        new Promise<void>((resolve) => {
          c.socket.once('close', () => resolve());
          c.socket.close();
          setTimeout(() => {
            c.socket.terminate();
            resolve();
          }, 5_000).unref();
        }),
    ),
  );
  return result;
}

async function warmUp(target: BenchTarget, count: number, concurrency: number): Promise<void> {
  const sockets = await openSockets(target, count, concurrency);
  // A few broadcasts too, so the first measured one does not pay for JIT and new sockets.
  for (let i = 0; i < 5; i++) {
    sendBroadcast(sockets[0]!, { seq: -1 });
    await new Promise((resolve) => setTimeout(resolve, 200 + count / 5));
  }
  await closeAll(sockets);
}

/** Opens and closes `count` connections, then waits until the server is quiet again. */
async function rewarm(target: BenchTarget, count: number, concurrency: number): Promise<void> {
  await closeAll(await openSockets(target, count, concurrency));
  await quiet(target);
}

/** `count` connections, `concurrency` at a time; the servers under test offer no compression. */
async function openSockets(target: BenchTarget, count: number, concurrency: number): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  for (let opened = 0; opened < count; opened += concurrency) {
    await Promise.all(
      Array.from(
        { length: Math.min(concurrency, count - opened) },
        () =>
          new Promise<void>((resolve, reject) => {
            const socket = new WebSocket(target.wsUrl, { perMessageDeflate: false });
            socket.once('open', () => resolve());
            socket.once('error', reject);
            sockets.push(socket);
          }),
      ),
    );
  }
  return sockets;
}

async function closeAll(sockets: WebSocket[]): Promise<void> {
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise((resolve) => {
          socket.once('close', resolve);
          socket.close();
        }),
    ),
  );
}

/** Sends one broadcast without a seq and waits until every client has it (or 10 s). */
async function broadcastUncounted(clients: Client[], n: number): Promise<void> {
  let remaining = n;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 10_000);
    const onMessage = () => {
      if (--remaining > 0) return;
      clearTimeout(timer);
      resolve();
    };
    for (const client of clients) client.socket.once('message', onMessage);
    sendBroadcast(clients[0]!.socket, { warm: true });
  });
}

/** The frame a chat client sends; the raw server broadcasts any frame as it is. */
function sendBroadcast(socket: WebSocket, data: unknown): void {
  socket.send(JSON.stringify({ action: SEND_MESSAGE_ACTION, data }));
}

/** A sorted copy, ascending. */
export function sorted(values: number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** p50, p99 and mean of `values`. */
export function summarize(values: number[]): { p50: number; p99: number; mean: number } {
  const s = sorted(values);
  return { p50: percentile(s, 50), p99: percentile(s, 99), mean: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length) };
}

/**
 * Waits until the server is quiet (the $disconnects of a warm-up are done), then has it collect
 * its garbage, so a memory reading shows what it keeps.
 */
async function settle(target: BenchTarget): Promise<MemoryReport | undefined> {
  await quiet(target);
  return target.memory();
}

/** Until the server uses under 5 % of a core for half a second (at most `maxWaitMs`). */
async function quiet(target: BenchTarget, maxWaitMs = 30_000): Promise<void> {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const deadline = Date.now() + maxWaitMs;
  for (let before = target.cpuSeconds(); before !== undefined && Date.now() < deadline; ) {
    await sleep(500);
    const now = target.cpuSeconds()!;
    if (now - before < 0.025) break;
    before = now;
  }
}
