import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type FanoutRun, runFanout } from './fanout-scenario.js';
import { type BenchResults, checkTargets, formatReport, growthChartSvg } from './report.js';
import { runSenderBench } from './sender-bench.js';
import { type BenchTarget, remoteTarget, startDevServer, startRawServer } from './targets.js';

/**
 * `npm run bench`: Edge Relay's fan-out against a raw `ws` broadcast server in the same run,
 * the growth curve, and the sender micro-benchmark. Targets 127.0.0.1 only (or WS_URL), bounded
 * in count and time. Writes bench/results/latest.json and bench/results/fanout.svg.
 */
const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '1000' },
    broadcasts: { type: 'string', default: '50' },
    growth: { type: 'string', default: '100,1000,5000' },
    'growth-broadcasts': { type: 'string', default: '10' },
  },
});
const clients = Number(values.clients);
const broadcasts = Number(values.broadcasts);
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

log('sender micro-benchmark');
const sender = await runSenderBench();
log(`fan-out, N = ${clients}, M = ${broadcasts}: raw ws`);
const raw = await measure(startRawServer, clients, broadcasts);
log(`fan-out, N = ${clients}, M = ${broadcasts}: Edge Relay${process.env.WS_URL ? ` at ${process.env.WS_URL}` : ''}`);
const edgeRun = await measure(edge, clients, broadcasts);

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
