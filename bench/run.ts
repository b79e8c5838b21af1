import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type ChannelRun, runChannelFanout } from './channel-scenario.js';
import { type FanoutRun, runFanout } from './fanout-scenario.js';
import { type BenchResults, checkTargets, formatReport, growthChartSvg, type NotRun } from './report.js';
import { runSenderBench } from './sender-bench.js';
import { type BenchTarget, remoteTarget, startDevServer, startRawServer } from './targets.js';

/**
 * `npm run bench`: Edge Relay's fan-out against a raw `ws` broadcast server in the same run,
 * channels of half the connections (one with history, one without) against today's broadcast
 * to all of them, with every subscriber's offsets checked, the growth
 * curve, and the sender micro-benchmark. Targets 127.0.0.1 only (or WS_URL), bounded
 * in count and time. Writes bench/results/latest.json and bench/results/fanout.svg.
 */
const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '1000' },
    broadcasts: { type: 'string', default: '50' },
    // Of --clients, how many subscribe to the channel (default: half).
    subscribers: { type: 'string' },
    growth: { type: 'string', default: '100,1000,5000' },
    'growth-broadcasts': { type: 'string', default: '10' },
  },
});
const clients = Number(values.clients);
const broadcasts = Number(values.broadcasts);
const subscribers = values.subscribers === undefined ? Math.floor(clients / 2) : Number(values.subscribers);
const growthSizes = values.growth.split(',').filter(Boolean).map(Number);
const growthBroadcasts = Number(values['growth-broadcasts']);

// Bounded: whatever happens, the benchmark stops by itself.
setTimeout(() => {
  console.error('bench: stopped after 20 minutes');
  process.exit(2);
}, 20 * 60_000).unref();

async function measure(start: () => Promise<BenchTarget>, n: number, m: number): Promise<FanoutRun> {
  const target = await start();
  try {
    return await runFanout(target, { clients: n, broadcasts: m });
  } finally {
    await target.stop();
  }
}

const edge = () => (process.env.WS_URL ? Promise.resolve(remoteTarget(process.env.WS_URL)) : startDevServer());
const log = (message: string) => console.error(`bench: ${message}`);

/**
 * Connections need a token allowing the channel. Here the dev server is started with a fresh
 * JWT_SECRET and every connection gets its own HS256 token (all capabilities, the default);
 * against WS_URL, JWT_SECRET must be that stage's secret, else the scenario is skipped.
 */
async function measureChannel(): Promise<ChannelRun | NotRun> {
  const remote = process.env.WS_URL;
  if (remote && !process.env.JWT_SECRET) return { notRun: 'set JWT_SECRET to the secret of the stage at WS_URL' };
  const jwtSecret = remote ? process.env.JWT_SECRET! : randomBytes(32).toString('base64url');
  const target = remote ? remoteTarget(remote) : await startDevServer([], { JWT_SECRET: jwtSecret });
  try {
    return await runChannelFanout(target, { clients, subscribers, messages: broadcasts, jwtSecret });
  } catch (error) {
    // The other scenarios still get measured and written; the targets show this one failed.
    return { notRun: `failed: ${(error as Error).message}` };
  } finally {
    await target.stop();
  }
}

log('sender micro-benchmark');
const sender = await runSenderBench();
log(`fan-out, N = ${clients}, M = ${broadcasts}: raw ws`);
const raw = await measure(startRawServer, clients, broadcasts);
log(`fan-out, N = ${clients}, M = ${broadcasts}: Edge Relay${process.env.WS_URL ? ` at ${process.env.WS_URL}` : ''}`);
const edgeRun = await measure(edge, clients, broadcasts);
log(
  `channels, N = ${clients}, ${subscribers} subscribed to a channel with history and one without, ` +
    `M = ${broadcasts} each, against today's broadcast to all N`,
);
const channel = await measureChannel();
if ('notRun' in channel) log(`channel scenario not run: ${channel.notRun}`);

const growth: BenchResults['growth'] = [];
// Every growth point is measured the same way (same M, fresh servers), the main run's N included.
for (const n of growthSizes) {
  log(`growth, N = ${n}, M = ${growthBroadcasts}`);
  growth.push({
    clients: n,
    raw: await measure(startRawServer, n, growthBroadcasts),
    edge: await measure(edge, n, growthBroadcasts),
  });
}

const results: BenchResults = {
  date: new Date().toISOString(),
  machine: { cpus: availableParallelism(), node: process.version },
  main: { raw, edge: edgeRun },
  channel,
  growth,
  sender,
};
const dir = resolve(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(
  resolve(dir, 'latest.json'),
  `${JSON.stringify({ ...results, targets: checkTargets(results) }, null, 2)}\n`,
);
writeFileSync(resolve(dir, 'fanout.svg'), growthChartSvg(results));
console.log(formatReport(results));
console.log(`\nwrote bench/results/latest.json and bench/results/fanout.svg`);
