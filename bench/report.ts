import type { ChannelRun } from './channel-scenario.js';
import type { FanoutRun } from './fanout-scenario.js';
import type { SenderBenchResult } from './sender-bench.js';

/** Everything one `npm run bench` measured. */
export interface BenchResults {
  date: string;
  machine: { cpus: number; node: string };
  main: { raw: FanoutRun; edge: FanoutRun };
  /** Half the connections in a channel against today's broadcast to all, same server and connections. */
  channel: ChannelRun | NotRun;
  growth: { clients: number; raw: FanoutRun; edge: FanoutRun }[];
  sender: SenderBenchResult;
}

/** A scenario that could not run, and why. */
export interface NotRun {
  notRun: string;
}

export interface TargetCheck {
  name: string;
  value: string;
  target: string;
  met: boolean;
}

/** The issues' targets: ratios to raw `ws` in the same run, and the channel's to today's broadcast. */
export function checkTargets(results: BenchResults): TargetCheck[] {
  return [...fanoutTargets(results), ...channelTargets(results.channel)];
}

/**
 * Issue 11: delivery per recipient in a channel no slower than today's broadcast to all N (same
 * server, same connections, interleaved), and nothing delivered outside the channel.
 */
export function channelTargets(channel: ChannelRun | NotRun): TargetCheck[] {
  if ('notRun' in channel) return [{ name: 'channel scenario', value: channel.notRun, target: 'runs', met: false }];
  const { inChannel, broadcast } = channel;
  const p50 = inChannel.delivery.p50 / broadcast.delivery.p50;
  const p99 = inChannel.delivery.p99 / broadcast.delivery.p99;
  const flaws = inChannel.lost + inChannel.duplicated + inChannel.timedOut;
  return [
    {
      name: 'channel delivery per recipient p50',
      value: `${p50.toFixed(2)}× broadcast`,
      target: '≤ 1× broadcast',
      met: p50 <= 1,
    },
    {
      name: 'channel delivery per recipient p99',
      value: `${p99.toFixed(2)}× broadcast`,
      target: '≤ 1× broadcast',
      met: p99 <= 1,
    },
    {
      name: 'received outside the channel',
      value: String(channel.outsideDeliveries),
      target: '0',
      met: channel.outsideDeliveries === 0,
    },
    {
      name: 'channel lost / duplicated / timed out',
      value: `${inChannel.lost} / ${inChannel.duplicated} / ${inChannel.timedOut} (${channel.errors} error frames)`,
      target: '0',
      met: flaws === 0 && channel.errors === 0,
    },
  ];
}

function fanoutTargets({ main: { raw, edge }, growth, sender }: BenchResults): TargetCheck[] {
  const ratio = (a: number, b: number) => a / b;
  const p50 = ratio(edge.completion.p50, raw.completion.p50);
  const p99 = ratio(edge.completion.p99, raw.completion.p99);
  const deliveries = ratio(edge.deliveriesPerSecond, raw.deliveriesPerSecond);
  const connections = ratio(edge.connectionsPerSecond, raw.connectionsPerSecond);
  const largest = growth.at(-1);
  const flaws = edge.lost + edge.duplicated + edge.reordered + edge.timedOut;
  return [
    { name: 'fan-out completion p50', value: `${p50.toFixed(1)}× raw`, target: '≤ 12× raw', met: p50 <= 12 },
    { name: 'fan-out completion p99', value: `${p99.toFixed(1)}× raw`, target: '≤ 15× raw', met: p99 <= 15 },
    {
      name: 'deliveries per second',
      value: `${(deliveries * 100).toFixed(1)} % of raw`,
      target: '≥ 10 % of raw',
      met: deliveries >= 0.1,
    },
    {
      name: 'connections per second',
      value: `${(connections * 100).toFixed(1)} % of raw`,
      target: '≥ 20 % of raw',
      met: connections >= 0.2,
    },
    {
      name: 'server memory per connection',
      value: kb(edge.memoryPerConnection),
      target: '≤ 30 KB',
      met: (edge.memoryPerConnection ?? Infinity) <= 30 * 1024,
    },
    {
      name: 'sender CPU per PostToConnection',
      value: `${sender.cpuMsPerCall.edgeRelaySender.toFixed(3)} ms`,
      target: '≤ 0.15 ms',
      met: sender.cpuMsPerCall.edgeRelaySender <= 0.15,
    },
    {
      name: 'lost / duplicated / reordered',
      value: `${edge.lost} / ${edge.duplicated} / ${edge.reordered}`,
      target: '0',
      met: flaws === 0,
    },
    {
      name: `N = ${largest?.clients ?? '?'} completes`,
      value: largest ? `${largest.edge.timedOut} timed out, ${largest.edge.lost} lost` : 'not run',
      target: 'no errors',
      met:
        Boolean(largest) &&
        largest!.edge.timedOut + largest!.edge.lost + largest!.edge.duplicated + largest!.edge.reordered === 0,
    },
  ];
}

/** The results as the console table people read. */
export function formatReport(results: BenchResults): string {
  const { raw, edge } = results.main;
  const row = (name: string, r: string, e: string, ratio: string) =>
    `| ${name.padEnd(36)} | ${r.padStart(12)} | ${e.padStart(12)} | ${ratio.padStart(11)} |`;
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const x = (a: number, b: number) => `${(a / b).toFixed(1)}×`;
  const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(1)} %`;
  const lines = [
    `Fan-out, N = ${raw.clients} clients, M = ${raw.broadcasts} broadcasts, closed loop ` +
      `(${results.machine.cpus} cores, node ${results.machine.node})`,
    '',
    row('', 'raw ws', 'Edge Relay', 'vs raw'),
    row('-'.repeat(36), '-'.repeat(12), '-'.repeat(12), '-'.repeat(11)),
    row(
      'fan-out completion p50',
      ms(raw.completion.p50),
      ms(edge.completion.p50),
      x(edge.completion.p50, raw.completion.p50),
    ),
    row(
      'fan-out completion p99',
      ms(raw.completion.p99),
      ms(edge.completion.p99),
      x(edge.completion.p99, raw.completion.p99),
    ),
    row(
      'per-delivery latency p50',
      ms(raw.delivery.p50),
      ms(edge.delivery.p50),
      x(edge.delivery.p50, raw.delivery.p50),
    ),
    row(
      'per-delivery latency p99',
      ms(raw.delivery.p99),
      ms(edge.delivery.p99),
      x(edge.delivery.p99, raw.delivery.p99),
    ),
    row(
      'deliveries per second',
      raw.deliveriesPerSecond.toFixed(0),
      edge.deliveriesPerSecond.toFixed(0),
      pct(edge.deliveriesPerSecond, raw.deliveriesPerSecond),
    ),
    row(
      'connections opened per second',
      raw.connectionsPerSecond.toFixed(0),
      edge.connectionsPerSecond.toFixed(0),
      pct(edge.connectionsPerSecond, raw.connectionsPerSecond),
    ),
    row(
      'server memory per connection',
      kb(raw.memoryPerConnection),
      kb(edge.memoryPerConnection),
      raw.memoryPerConnection && edge.memoryPerConnection ? x(edge.memoryPerConnection, raw.memoryPerConnection) : '-',
    ),
    row(
      'server CPU per delivery',
      us(raw.serverCpuMsPerDelivery),
      us(edge.serverCpuMsPerDelivery),
      x(edge.serverCpuMsPerDelivery ?? NaN, raw.serverCpuMsPerDelivery ?? NaN),
    ),
    row(
      'lost / duplicated / reordered',
      `${raw.lost}/${raw.duplicated}/${raw.reordered}`,
      `${edge.lost}/${edge.duplicated}/${edge.reordered}`,
      '',
    ),
    '',
    ...channelReport(results.channel),
    '',
    'Growth (cost per delivery should stay flat): fan-out completion p50 / N',
    ...results.growth.map(({ clients, raw: r, edge: e }) => {
      const perDelivery = (run: FanoutRun) => ((run.completion.p50 / clients) * 1000).toFixed(1).padStart(6);
      return (
        `  N = ${String(clients).padStart(5)}: raw ${perDelivery(r)} µs, ` +
        `Edge Relay ${perDelivery(e)} µs per delivery ` +
        `(p50 ${e.completion.p50.toFixed(0)} ms, ${e.timedOut} timed out, ${e.lost} lost)`
      );
    }),
    '',
    `Sender CPU per PostToConnection (${results.sender.calls} calls, same trivial server):`,
    `  Edge Relay sender (signed HTTP) ${results.sender.cpuMsPerCall.edgeRelaySender.toFixed(3)} ms`,
    `  SDK send(PostToConnectionCommand) ${results.sender.cpuMsPerCall.sdkCommand.toFixed(3)} ms`,
    `  bare HTTP POST (unsigned) ${results.sender.cpuMsPerCall.bareHttpPost.toFixed(3)} ms`,
    '',
    'Targets:',
    ...checkTargets(results).map(
      (t) => `  ${t.met ? 'met    ' : 'NOT MET'}  ${t.name}: ${t.value} (target ${t.target})`,
    ),
  ];
  return lines.join('\n');
}

/** The channel scenario's table: the channel's subscribers against today's broadcast to all. */
function channelReport(channel: ChannelRun | NotRun): string[] {
  if ('notRun' in channel) return [`Channel fan-out: not run (${channel.notRun})`];
  const { inChannel: c, broadcast: b } = channel;
  const row = (name: string, broadcast: string, inChannel: string, ratio: string) =>
    `| ${name.padEnd(36)} | ${broadcast.padStart(14)} | ${inChannel.padStart(14)} | ${ratio.padStart(11)} |`;
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const x = (a: number, bb: number) => `${(a / bb).toFixed(2)}×`;
  return [
    `Channel fan-out, N = ${channel.clients} connections, ${channel.subscribers} subscribed to ${channel.channel}, ` +
      `M = ${channel.messages}: client publish (protocol v1) against today's sendmessage broadcast to all N, ` +
      'same server and connections, interleaved',
    '',
    row('', `broadcast (${b.recipients})`, `channel (${c.recipients})`, 'vs bcast'),
    row('-'.repeat(36), '-'.repeat(14), '-'.repeat(14), '-'.repeat(11)),
    row('delivery per recipient p50', ms(b.delivery.p50), ms(c.delivery.p50), x(c.delivery.p50, b.delivery.p50)),
    row('delivery per recipient p99', ms(b.delivery.p99), ms(c.delivery.p99), x(c.delivery.p99, b.delivery.p99)),
    row('completion p50', ms(b.completion.p50), ms(c.completion.p50), x(c.completion.p50, b.completion.p50)),
    row(
      'deliveries per second',
      b.deliveriesPerSecond.toFixed(0),
      c.deliveriesPerSecond.toFixed(0),
      x(c.deliveriesPerSecond, b.deliveriesPerSecond),
    ),
    row('received outside the channel', '-', String(channel.outsideDeliveries), ''),
    row(
      'lost / duplicated / timed out',
      `${b.lost}/${b.duplicated}/${b.timedOut}`,
      `${c.lost}/${c.duplicated}/${c.timedOut}`,
      '',
    ),
  ];
}

/** A small line chart: cost per delivery against N, raw and Edge Relay, log-scaled N. */
export function growthChartSvg(results: BenchResults): string {
  const width = 640,
    height = 360,
    left = 70,
    right = 50,
    top = 40,
    bottom = 50;
  const points = results.growth.map((g) => ({
    n: g.clients,
    raw: (g.raw.completion.p50 / g.clients) * 1000,
    edge: (g.edge.completion.p50 / g.clients) * 1000,
  }));
  const maxY = Math.max(...points.flatMap((p) => [p.raw, p.edge]), 1) * 1.15;
  const [minN, maxN] = [Math.min(...points.map((p) => p.n)), Math.max(...points.map((p) => p.n))];
  const xOf = (n: number) =>
    left +
    ((Math.log10(n) - Math.log10(minN)) / Math.max(1e-9, Math.log10(maxN) - Math.log10(minN))) * (width - left - right);
  const yOf = (v: number) => top + (1 - v / maxY) * (height - top - bottom);
  const line = (key: 'raw' | 'edge', color: string) =>
    `<polyline fill="none" stroke="${color}" stroke-width="2.5" points="${points
      .map((p) => `${xOf(p.n).toFixed(1)},${yOf(p[key]).toFixed(1)}`)
      .join(' ')}"/>` +
    points
      .map(
        (p) =>
          `<circle cx="${xOf(p.n).toFixed(1)}" cy="${yOf(p[key]).toFixed(1)}" r="4" fill="${color}">` +
          `<title>${key} N=${p.n}: ${p[key].toFixed(1)} µs</title></circle>`,
      )
      .join('');
  const tick = (t: number) =>
    `<line x1="${left}" x2="${width - right}" y1="${yOf(t)}" y2="${yOf(t)}" stroke="#eee"/>` +
    `<text x="${left - 8}" y="${yOf(t) + 4}" text-anchor="end">${t.toFixed(0)} µs</text>`;
  const label = (p: { n: number }) =>
    `<text x="${xOf(p.n)}" y="${height - bottom + 20}" text-anchor="middle">N = ${p.n}</text>`;
  const ticks = Array.from({ length: 5 }, (_, i) => (maxY / 4) * i);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"`;
  return `${svg} font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">Fan-out cost per delivery (completion p50 / N)</text>
${ticks.map(tick).join('\n')}
${points.map(label).join('\n')}
${line('raw', '#888')}
${line('edge', '#d2461e')}
<text x="${width - right - 150}" y="${top + 10}" fill="#d2461e">● Edge Relay</text>
<text x="${width - right - 150}" y="${top + 28}" fill="#888">● raw ws broadcast</text>
</svg>
`;
}

function us(milliseconds: number | undefined): string {
  return milliseconds === undefined ? '-' : `${(milliseconds * 1000).toFixed(0)} µs`;
}

function kb(bytes: number | undefined): string {
  return bytes === undefined ? '-' : `${(bytes / 1024).toFixed(1)} KB`;
}
