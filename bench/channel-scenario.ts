import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { SEND_MESSAGE_ACTION } from '../src/core/index.js';
import { percentile, sorted, summarize } from './fanout-scenario.js';
import { auditOffsets, type OffsetAudit } from './offset-audit.js';
import type { BenchTarget } from './targets.js';

/** A channel that keeps history: namespace `chat` (historySize 100, client publishing, presence, join/leave). */
export const HISTORY_CHANNEL = 'chat:bench';
/** A channel without history: `bench` is not declared, so it gets the defaults (offsets, no history). */
export const PLAIN_CHANNEL = 'bench:plain';

type ChannelKind = 'history' | 'plain';
type Kind = ChannelKind | 'broadcast';
const CHANNELS: Record<ChannelKind, string> = { history: HISTORY_CHANNEL, plain: PLAIN_CHANNEL };
const KINDS: readonly Kind[] = ['history', 'plain', 'broadcast'];

/** One kind of fan-out measured in the channel run: one channel's subscribers, or today's broadcast to all. */
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

/**
 * N connections, the same S of them subscribed to a channel with history and to one without;
 * M publishes to each and M broadcasts to all N, interleaved.
 */
export interface ChannelRun {
  target: string;
  clients: number;
  subscribers: number;
  messages: number;
  channels: Record<ChannelKind, string>;
  /** Publishes to HISTORY_CHANNEL (protocol v1 `publish`, from a subscriber): each is stored before its ack. */
  withHistory: FanoutFigures;
  /** Publishes to PLAIN_CHANNEL, same publisher, same subscribers. */
  withoutHistory: FanoutFigures;
  /** Today's `sendmessage` broadcast to every connection (the default channel), on the same connections. */
  broadcast: FanoutFigures;
  /** Per channel: the offsets every subscriber received against the acks' offsets. */
  offsets: Record<ChannelKind, OffsetAudit>;
  /** Subscribing S connections to both channels, until the join events of the history channel stopped. */
  setup: { seconds: number; joinEvents: number };
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
  /** The bench's sequence number (in `data`) → times received, per kind. */
  seen: Record<Kind, Map<number, number>>;
  /** The frame's offset → times received, per channel. */
  offsets: Record<ChannelKind, Map<number, number>>;
}

interface IncomingFrame {
  type?: string;
  id?: unknown;
  channel?: string;
  offset?: number;
  data?: { kind?: Kind; seq?: number };
}

/** What all clients' frames said, gathered in one place; the callbacks are swapped per phase. */
interface Observations {
  errors: number;
  outsideDeliveries: number;
  joinEvents: number;
  /** The offsets in client 0's acks, per channel: what was published. */
  acked: Record<ChannelKind, number[]>;
  onReceive(kind: Kind, seq: number): void;
  onReply(client: Client, frame: IncomingFrame): void;
}

/**
 * Connects N clients, each with its own token (sub `bench-<i>`), subscribes the first S to
 * HISTORY_CHANNEL and PLAIN_CHANNEL, waits for the join events to stop, and sends from client 0
 * (a subscriber) M rounds of one publish to each channel and one broadcast to all, each once every
 * recipient has the previous one; the order within a round rotates, so each kind runs under the
 * same machine noise and none always follows the same one. Every frame any client gets is checked:
 * a channel message outside the channel is counted, and each subscriber's offsets are audited.
 */
export async function runChannelFanout(target: BenchTarget, options: ChannelScenarioOptions): Promise<ChannelRun> {
  const { clients: n, subscribers: s, messages: m } = options;
  if (s < 1 || s > n) throw new Error(`subscribers must be between 1 and ${n}, got ${s}`);
  const messageTimeoutMs = options.messageTimeoutMs ?? 30_000;
  const seen: Observations = {
    errors: 0,
    outsideDeliveries: 0,
    joinEvents: 0,
    acked: { history: [], plain: [] },
    onReceive: () => {},
    onReply: () => {},
  };
  const clients: Client[] = [];
  try {
    await connectAll(target, options, clients, seen);
    const started = performance.now();
    // A channel with join/leave announces each of the S subscribes to the members before it:
    // about S²/2 join frames, which must be over before anything is timed.
    await subscribeAll(clients.slice(0, s), seen, Math.max(messageTimeoutMs, 120_000));
    await untilJoinsStop(seen);
    const setup = { seconds: (performance.now() - started) / 1000, joinEvents: seen.joinEvents };

    const recipients: Record<Kind, Client[]> = {
      history: clients.slice(0, s),
      plain: clients.slice(0, s),
      broadcast: clients,
    };
    const deliver = (kind: Kind, seq: number) =>
      deliverOne(clients[0]!, recipients[kind], kind, seq, seen, messageTimeoutMs);
    await warmUp(deliver);
    const measured = await measureRounds(deliver, m);
    // Late or duplicate frames still count.
    await sleep(200);

    const figures = (kind: Kind) => figuresOf(measured[kind], recipients[kind], clients, kind, m);
    const audit = (kind: ChannelKind) =>
      auditOffsets(
        seen.acked[kind],
        recipients[kind].map((client) => client.offsets[kind]),
      );
    return {
      target: target.name,
      clients: n,
      subscribers: s,
      messages: m,
      channels: CHANNELS,
      withHistory: figures('history'),
      withoutHistory: figures('plain'),
      broadcast: figures('broadcast'),
      offsets: { history: audit('history'), plain: audit('plain') },
      setup,
      outsideDeliveries: seen.outsideDeliveries,
      errors: seen.errors,
    };
  } finally {
    await closeAll(clients);
  }
}

async function connectAll(
  target: BenchTarget,
  options: ChannelScenarioOptions,
  clients: Client[],
  seen: Observations,
): Promise<void> {
  const { clients: n, connectConcurrency = 100 } = options;
  const key = new TextEncoder().encode(options.jwtSecret);
  const tokens = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(`bench-${i}`).setExpirationTime('1h').sign(key),
    ),
  );
  for (let opened = 0; opened < n; opened += connectConcurrency) {
    const batch = Array.from({ length: Math.min(connectConcurrency, n - opened) }, (_, i) => opened + i);
    await Promise.all(batch.map(async (index) => (clients[index] = await connectOne(target, tokens[index]!, seen))));
  }
}

function connectOne(target: BenchTarget, token: string, seen: Observations): Promise<Client> {
  return new Promise((resolve, reject) => {
    const url = new URL(target.wsUrl);
    url.searchParams.set('token', token);
    const socket = new WebSocket(url, { perMessageDeflate: false });
    const client: Client = {
      socket,
      subscribed: false,
      seen: { history: new Map(), plain: new Map(), broadcast: new Map() },
      offsets: { history: new Map(), plain: new Map() },
    };
    socket.on('message', (data) => observe(client, JSON.parse(data.toString()) as IncomingFrame, seen));
    socket.once('open', () => resolve(client));
    socket.once('unexpected-response', (_request, response) => {
      reject(new Error(`handshake refused with ${response.statusCode}: is JWT_SECRET the server's?`));
      socket.terminate();
    });
    socket.once('error', reject);
  });
}

function observe(client: Client, frame: IncomingFrame, seen: Observations): void {
  if (frame.type === 'message') {
    observeMessage(client, frame, seen);
    return;
  }
  // Join events belong to the setup; they reach no reply handler.
  if (frame.type === 'join' || frame.type === 'leave') {
    seen.joinEvents++;
    return;
  }
  if (frame.type === 'error') seen.errors++;
  if (frame.type === 'ack') recordAck(frame, seen);
  seen.onReply(client, frame);
}

function recordAck(frame: IncomingFrame, seen: Observations): void {
  const kind = channelKindOf(frame.channel);
  if (kind && typeof frame.offset === 'number') seen.acked[kind].push(frame.offset);
}

function observeMessage(client: Client, frame: IncomingFrame, seen: Observations): void {
  const channelKind = channelKindOf(frame.channel);
  if (channelKind) {
    if (!client.subscribed) seen.outsideDeliveries++;
    if (typeof frame.offset === 'number') increment(client.offsets[channelKind], frame.offset);
  }
  const { kind, seq } = frame.data ?? {};
  if (!KINDS.includes(kind as Kind) || typeof seq !== 'number') return;
  increment(client.seen[kind!], seq);
  seen.onReceive(kind!, seq);
}

function channelKindOf(channel: string | undefined): ChannelKind | undefined {
  if (channel === HISTORY_CHANNEL) return 'history';
  if (channel === PLAIN_CHANNEL) return 'plain';
  return undefined;
}

function increment(counts: Map<number, number>, key: number): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** Subscribes each client to both channels (protocol v1, one request id per channel) and waits for every reply. */
async function subscribeAll(subscribers: Client[], seen: Observations, timeoutMs: number): Promise<void> {
  const channels = Object.values(CHANNELS);
  let remaining = subscribers.length * channels.length;
  const refused: unknown[] = [];
  const answered = new Map<Client, number>();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${remaining} subscribes unanswered after ${timeoutMs} ms; refused: ${refused.length}`)),
      timeoutMs,
    );
    seen.onReply = (client, frame) => {
      // An error without our id (a server that cannot read the frame) is a refusal too.
      if (frame.id !== 'bench-subscribe' && frame.type !== 'error') return;
      if (frame.type === 'subscribed') answered.set(client, (answered.get(client) ?? 0) + 1);
      else refused.push(frame);
      // Counted as a subscriber once both subscribes are answered; nothing is published before.
      client.subscribed = answered.get(client) === channels.length;
      if (--remaining > 0) return;
      clearTimeout(timer);
      if (refused.length > 0) reject(new Error(`subscribe refused: ${JSON.stringify(refused[0])}`));
      else resolve();
    };
    for (const client of subscribers) {
      for (const channel of channels) {
        client.socket.send(JSON.stringify({ action: 'subscribe', channel, id: 'bench-subscribe' }));
      }
    }
  });
  seen.onReply = () => {};
}

/** Until no join event arrived for a second (at most `maxWaitMs`): the join fan-outs are over. */
async function untilJoinsStop(seen: Observations, maxWaitMs = 180_000): Promise<void> {
  const deadline = performance.now() + maxWaitMs;
  for (let before = -1; seen.joinEvents !== before && performance.now() < deadline; ) {
    before = seen.joinEvents;
    await sleep(1000);
  }
}

type Deliver = (kind: Kind, seq: number) => Promise<{ deliveries: number[]; complete?: number }>;

/**
 * Sends one message of `kind` from `publisher` and resolves with each recipient's delivery time
 * (`complete` undefined on timeout). Channel publishes carry an id, so their acks (and offsets) are seen.
 */
function deliverOne(
  publisher: Client,
  recipients: Client[],
  kind: Kind,
  seq: number,
  seen: Observations,
  timeoutMs: number,
): ReturnType<Deliver> {
  return new Promise((resolve) => {
    const deliveries: number[] = [];
    let remaining = recipients.length;
    const sentAt = performance.now();
    const timer = setTimeout(() => resolve({ deliveries }), timeoutMs);
    seen.onReceive = (receivedKind, received) => {
      if (receivedKind !== kind || received !== seq) return;
      deliveries.push(performance.now() - sentAt);
      if (--remaining > 0) return;
      clearTimeout(timer);
      resolve({ deliveries, complete: performance.now() - sentAt });
    };
    const data = { kind, seq };
    const frame =
      kind === 'broadcast'
        ? { action: SEND_MESSAGE_ACTION, data }
        : { action: 'publish', channel: CHANNELS[kind], data, id: `${kind}-${seq}` };
    publisher.socket.send(JSON.stringify(frame));
  });
}

/**
 * Warms every path (sandboxes, JIT, sockets, the history writes) with messages no one counts
 * (negative seq). A server that drops them stops the run here rather than after M timeouts.
 */
async function warmUp(deliver: Deliver): Promise<void> {
  for (let i = 1; i <= 10; i++) {
    for (const kind of KINDS) {
      const { deliveries, complete } = await deliver(kind, -i);
      if (complete === undefined) throw new Error(`warm-up ${kind} reached ${deliveries.length} recipients in time`);
    }
  }
}

interface Measured {
  deliveries: number[];
  completions: number[];
  seconds: number;
  timedOut: number;
}

/** M rounds of one message of each kind; round r starts with kind r mod 3. */
async function measureRounds(deliver: Deliver, m: number): Promise<Record<Kind, Measured>> {
  const measured = Object.fromEntries(
    KINDS.map((kind) => [kind, { deliveries: [], completions: [], seconds: 0, timedOut: 0 }]),
  ) as unknown as Record<Kind, Measured>;
  for (let seq = 0; seq < m; seq++) {
    const rotation = seq % KINDS.length;
    for (const kind of [...KINDS.slice(rotation), ...KINDS.slice(0, rotation)]) {
      const started = performance.now();
      const { deliveries, complete } = await deliver(kind, seq);
      measured[kind].seconds += (performance.now() - started) / 1000;
      measured[kind].deliveries.push(...deliveries);
      if (complete === undefined) measured[kind].timedOut++;
      else measured[kind].completions.push(complete);
    }
  }
  return measured;
}

function figuresOf(
  { deliveries, completions, seconds, timedOut }: Measured,
  recipients: Client[],
  everyone: Client[],
  kind: Kind,
  m: number,
): FanoutFigures {
  const list = sorted(deliveries);
  const counted = (client: Client) => [...client.seen[kind]].filter(([seq]) => seq >= 0);
  return {
    recipients: recipients.length,
    delivery: { p50: percentile(list, 50), p99: percentile(list, 99) },
    completion: summarize(completions),
    deliveriesPerSecond: deliveries.length / Math.max(seconds, 1e-9),
    lost: recipients.reduce((sum, client) => sum + (m - counted(client).length), 0),
    duplicated: everyone.reduce(
      (sum, client) => sum + counted(client).reduce((extra, [, times]) => extra + times - 1, 0),
      0,
    ),
    timedOut,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
