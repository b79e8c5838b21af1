import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { SEND_MESSAGE_ACTION } from '../src/core/index.js';
import { percentile, sorted, summarize } from './fanout-scenario.js';
import type { BenchTarget } from './targets.js';

/** The channel the subscribers join: namespace `chat` ships with client publishing on. */
export const BENCH_CHANNEL = 'chat:bench';

/** One kind of fan-out measured in the channel run: the channel's subscribers, or today's broadcast to all. */
export interface FanoutFigures {
  recipients: number;
  /** Time until each single recipient has a message, ms. */
  delivery: { p50: number; p99: number };
  /** Time until the last recipient has a message, ms. */
  completion: { p50: number; p99: number; mean: number };
  /** Deliveries over the time spent in this kind's closed loop. */
  deliveriesPerSecond: number;
  lost: number;
  duplicated: number;
  /** Messages that did not reach every recipient within the per-message timeout. */
  timedOut: number;
}

/** N connections, S of them subscribed to one channel; M publishes to it and M broadcasts, interleaved. */
export interface ChannelRun {
  target: string;
  clients: number;
  subscribers: number;
  messages: number;
  channel: string;
  /** Publishes to the channel (protocol v1 `publish`, from a subscriber). */
  inChannel: FanoutFigures;
  /** Today's `sendmessage` broadcast to every connection (the default channel), on the same connections. */
  broadcast: FanoutFigures;
  /** Channel messages received by connections not subscribed to it: must be 0. */
  outsideDeliveries: number;
  /** Error frames received (a refused subscribe or publish shows up here). */
  errors: number;
}

export interface ChannelScenarioOptions {
  clients: number;
  subscribers: number;
  messages: number;
  /** Signs each connection's HS256 token: the secret the server was started with (JWT_SECRET). */
  jwtSecret: string;
  connectConcurrency?: number;
  messageTimeoutMs?: number;
}

interface Client {
  socket: WebSocket;
  subscribed: boolean;
  /** seq → times received, per kind. */
  seen: { channel: Map<number, number>; broadcast: Map<number, number> };
}

type Kind = 'channel' | 'broadcast';

/**
 * Connects N clients, each with its own token (sub `bench-<i>`), subscribes the first S to
 * BENCH_CHANNEL and sends, from client 0 (a subscriber), M rounds of one channel publish and one
 * broadcast to all, each once every recipient has the previous one. Interleaving puts both kinds
 * under the same machine noise. Every frame any client gets is checked, so a channel message at
 * a connection outside the channel is counted, not missed.
 */
export async function runChannelFanout(target: BenchTarget, options: ChannelScenarioOptions): Promise<ChannelRun> {
  const { clients: n, subscribers: s, messages: m } = options;
  if (s < 1 || s > n) throw new Error(`subscribers must be between 1 and ${n}, got ${s}`);
  const connectConcurrency = options.connectConcurrency ?? 100;
  const messageTimeoutMs = options.messageTimeoutMs ?? 30_000;
  const key = new TextEncoder().encode(options.jwtSecret);
  const tokens = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(`bench-${i}`).setExpirationTime('1h').sign(key),
    ),
  );

  const clients: Client[] = [];
  let errors = 0;
  let outsideDeliveries = 0;
  let onReceive: (client: Client, kind: Kind, seq: number) => void = () => {};
  let onReply: (client: Client, frame: { type?: string; id?: unknown }) => void = () => {};
  const connectOne = (index: number) =>
    new Promise<void>((resolve, reject) => {
      const url = new URL(target.wsUrl);
      url.searchParams.set('token', tokens[index]!);
      const socket = new WebSocket(url, { perMessageDeflate: false });
      const client: Client = { socket, subscribed: false, seen: { channel: new Map(), broadcast: new Map() } };
      socket.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as {
          type?: string;
          id?: unknown;
          channel?: string;
          data?: { kind?: Kind; seq?: number };
        };
        if (frame.type === 'error') errors++;
        if (frame.type !== 'message') return onReply(client, frame);
        if (frame.channel === BENCH_CHANNEL && !client.subscribed) outsideDeliveries++;
        const { kind, seq } = frame.data ?? {};
        if ((kind !== 'channel' && kind !== 'broadcast') || typeof seq !== 'number') return;
        client.seen[kind].set(seq, (client.seen[kind].get(seq) ?? 0) + 1);
        onReceive(client, kind, seq);
      });
      socket.once('open', () => {
        clients[index] = client;
        resolve();
      });
      socket.once('unexpected-response', (_request, response) => {
        reject(new Error(`handshake refused with ${response.statusCode}: is JWT_SECRET the server's?`));
        socket.terminate();
      });
      socket.once('error', reject);
    });
  try {
    for (let opened = 0; opened < n; opened += connectConcurrency) {
      const batch = Array.from({ length: Math.min(connectConcurrency, n - opened) }, (_, i) => opened + i);
      await Promise.all(batch.map(connectOne));
    }
    await subscribeAll(clients.slice(0, s), (handler) => (onReply = handler), messageTimeoutMs);
    const recipients: Record<Kind, Client[]> = { channel: clients.slice(0, s), broadcast: clients };
    const send = (kind: Kind, data: unknown) =>
      clients[0]!.socket.send(
        JSON.stringify(
          kind === 'channel'
            ? { action: 'publish', channel: BENCH_CHANNEL, data }
            : { action: SEND_MESSAGE_ACTION, data },
        ),
      );

    /** Sends one message of `kind` and resolves with each recipient's delivery time (undefined on timeout). */
    const deliver = (kind: Kind, seq: number) =>
      new Promise<{ deliveries: number[]; complete?: number }>((resolve) => {
        const deliveries: number[] = [];
        let remaining = recipients[kind].length;
        const sentAt = performance.now();
        const timer = setTimeout(() => resolve({ deliveries }), messageTimeoutMs);
        onReceive = (_client, receivedKind, received) => {
          if (receivedKind !== kind || received !== seq) return;
          deliveries.push(performance.now() - sentAt);
          if (--remaining > 0) return;
          clearTimeout(timer);
          resolve({ deliveries, complete: performance.now() - sentAt });
        };
        send(kind, { kind, seq });
      });

    // Warm both paths (sandboxes, JIT, sockets) with messages no one counts (negative seq).
    // A server that drops them stops the run here rather than after M timeouts.
    for (let i = 1; i <= 10; i++) {
      for (const kind of ['channel', 'broadcast'] as const) {
        const { deliveries, complete } = await deliver(kind, -i);
        if (complete === undefined) {
          throw new Error(`warm-up ${kind} reached ${deliveries.length} of ${recipients[kind].length} in time`);
        }
      }
    }

    const measured: Record<Kind, { deliveries: number[]; completions: number[]; seconds: number; timedOut: number }> = {
      channel: { deliveries: [], completions: [], seconds: 0, timedOut: 0 },
      broadcast: { deliveries: [], completions: [], seconds: 0, timedOut: 0 },
    };
    for (let seq = 0; seq < m; seq++) {
      for (const kind of ['channel', 'broadcast'] as const) {
        const started = performance.now();
        const { deliveries, complete } = await deliver(kind, seq);
        measured[kind].seconds += (performance.now() - started) / 1000;
        measured[kind].deliveries.push(...deliveries);
        if (complete === undefined) measured[kind].timedOut++;
        else measured[kind].completions.push(complete);
      }
    }
    // Late or duplicate frames still count.
    await new Promise((resolve) => setTimeout(resolve, 200));

    const figures = (kind: Kind): FanoutFigures => {
      const { deliveries, completions, seconds, timedOut } = measured[kind];
      const list = sorted(deliveries);
      const counted = (client: Client) => [...client.seen[kind]].filter(([seq]) => seq >= 0);
      return {
        recipients: recipients[kind].length,
        delivery: { p50: percentile(list, 50), p99: percentile(list, 99) },
        completion: summarize(completions),
        deliveriesPerSecond: deliveries.length / Math.max(seconds, 1e-9),
        lost: recipients[kind].reduce((sum, client) => sum + (m - counted(client).length), 0),
        duplicated: clients.reduce(
          (sum, client) => sum + counted(client).reduce((extra, [, times]) => extra + times - 1, 0),
          0,
        ),
        timedOut,
      };
    };
    return {
      target: target.name,
      clients: n,
      subscribers: s,
      messages: m,
      channel: BENCH_CHANNEL,
      inChannel: figures('channel'),
      broadcast: figures('broadcast'),
      outsideDeliveries,
      errors,
    };
  } finally {
    await closeAll(clients);
  }
}

/** Subscribes each client (protocol v1, one request id each) and waits for every `subscribed` reply. */
async function subscribeAll(
  subscribers: Client[],
  setReplyHandler: (handler: (client: Client, frame: { type?: string; id?: unknown }) => void) => void,
  timeoutMs: number,
): Promise<void> {
  let remaining = subscribers.length;
  const refused: unknown[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${remaining} subscribes unanswered after ${timeoutMs} ms; refused: ${refused.length}`)),
      timeoutMs,
    );
    setReplyHandler((client, frame) => {
      // An error without our id (a server that cannot read the frame) is a refusal too.
      if (frame.id !== 'bench-subscribe' && frame.type !== 'error') return;
      if (frame.type === 'subscribed') client.subscribed = true;
      else refused.push(frame);
      if (--remaining > 0) return;
      clearTimeout(timer);
      if (refused.length > 0) reject(new Error(`subscribe refused: ${JSON.stringify(refused[0])}`));
      else resolve();
    });
    for (const client of subscribers) {
      client.socket.send(JSON.stringify({ action: 'subscribe', channel: BENCH_CHANNEL, id: 'bench-subscribe' }));
    }
  });
  setReplyHandler(() => {});
}

async function closeAll(clients: Client[]): Promise<void> {
  await Promise.all(
    clients.filter(Boolean).map(
      (client) =>
        new Promise<void>((resolve) => {
          if (client.socket.readyState === WebSocket.CLOSED) return resolve();
          client.socket.once('close', () => resolve());
          client.socket.close();
          setTimeout(() => {
            client.socket.terminate();
            resolve();
          }, 5_000).unref();
        }),
    ),
  );
}
