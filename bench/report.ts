import type { ChannelRun, FanoutFigures } from './channel-scenario.js';
import type { FanoutRun } from './fanout-scenario.js';
import { type OffsetAudit, offsetFlaws } from './offset-audit.js';
import type { SenderBenchResult } from './sender-bench.js';

/** Everything one `npm run bench` measured. */
export interface BenchResults {
  date: string;
  machine: { cpus: number; node: string };
  main: { raw: FanoutRun; edge: FanoutRun };
  /** Half the connections in a channel with history and one without, against today's broadcast to all. */
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
 * server, same connections, interleaved), and nothing delivered outside the channel. Measured on
 * the channel without history, the kind of channel issue 11 measured.
 * Issue 12: the channel with history at most 20 % slower than the one without (same run, same
 * subscribers, interleaved), and every subscriber's offsets exactly the published ones.
 */
export function channelTargets(channel: ChannelRun | NotRun): TargetCheck[] {
  if ('notRun' in channel) return [{ name: 'channel scenario', value: channel.notRun, target: 'runs', met: false }];
  const { withHistory, withoutHistory, broadcast } = channel;
  const kinds = [withHistory, withoutHistory, broadcast];
  const flaws = kinds.reduce((sum, kind) => sum + kind.lost + kind.duplicated + kind.timedOut, 0);
  const times = (a: number, b: number, of: string, limit: number) => {
    const ratio = a / b;
    return { value: `${ratio.toFixed(2)}× ${of}`, target: `≤ ${limit}× ${of}`, met: ratio <= limit };
  };
  return [
    {
      name: 'channel delivery per recipient p50',
      ...times(withoutHistory.delivery.p50, broadcast.delivery.p50, 'broadcast', 1),
    },
    {
      name: 'channel delivery per recipient p99',
      ...times(withoutHistory.delivery.p99, broadcast.delivery.p99, 'broadcast', 1),
    },
    {
      name: 'with history: delivery per recipient p50',
      ...times(withHistory.delivery.p50, withoutHistory.delivery.p50, 'without', 1.2),
    },
    {
      name: 'with history: delivery per recipient p99',
      ...times(withHistory.delivery.p99, withoutHistory.delivery.p99, 'without', 1.2),
    },
    {
      name: 'with history: completion p50',
      ...times(withHistory.completion.p50, withoutHistory.completion.p50, 'without', 1.2),
    },
    {
      name: 'received outside the channels',
      value: String(channel.outsideDeliveries),
      target: '0',
      met: channel.outsideDeliveries === 0,
    },
    {
      name: 'channels and broadcast lost / duplicated / timed out',
      value: `${kinds.map((k) => `${k.lost}/${k.duplicated}/${k.timedOut}`).join(', ')} (${channel.errors} error frames)`,
      target: '0',
      met: flaws === 0 && channel.errors === 0,
    },
    ...(['history', 'plain'] as const).map((kind) => offsetTarget(channel.channels[kind], channel.offsets[kind])),
  ];
}

/** Every subscriber received each published offset of `name` once, and nothing else. */
function offsetTarget(name: string, audit: OffsetAudit): TargetCheck {
  return {
    name: `offsets at every subscriber of ${name}: missing / duplicated / foreign`,
    value:
      `${audit.missing} / ${audit.duplicated} / ${audit.foreign} ` +
      `(${audit.published} published, acks ${audit.acksConsecutive ? 'consecutive' : 'NOT consecutive'})`,
    target: '0, acks consecutive',
    met: offsetFlaws(audit) === 0,
  };
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

/** The channel scenario's table: a channel with history, one without, and today's broadcast to all. */
function channelReport(channel: ChannelRun | NotRun): string[] {
  if ('notRun' in channel) return [`Channel fan-out: not run (${channel.notRun})`];
  const { withHistory: h, withoutHistory: p, broadcast: b } = channel;
  const row = (name: string, ...cells: string[]) =>
    `| ${name.padEnd(30)} | ${cells.map((cell, i) => cell.padStart(i < 3 ? 16 : 12)).join(' | ')} |`;
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const x = (a: number, bb: number) => `${(a / bb).toFixed(2)}×`;
  const latencyRow = (name: string, pick: (f: FanoutFigures) => number) =>
    row(name, ms(pick(b)), ms(pick(p)), ms(pick(h)), x(pick(p), pick(b)), x(pick(h), pick(p)));
  const flaws = (f: FanoutFigures) => `${f.lost}/${f.duplicated}/${f.timedOut}`;
  const audit = ({ missing, duplicated, foreign, published }: OffsetAudit) =>
    `${missing}/${duplicated}/${foreign} of ${published}`;
  return [
    `Channel fan-out, N = ${channel.clients} connections, the same ${channel.subscribers} subscribed to ` +
      `${channel.channels.history} (history) and ${channel.channels.plain} (no history), M = ${channel.messages} ` +
      "each: client publish (protocol v1) to each channel and today's sendmessage broadcast to all N, same server " +
      'and connections, interleaved',
    '',
    row(
      '',
      `broadcast (${b.recipients})`,
      `no history (${p.recipients})`,
      `history (${h.recipients})`,
      'plain/bcast',
      'hist/plain',
    ),
    row('-'.repeat(30), ...[16, 16, 16, 12, 12].map((w) => '-'.repeat(w))),
    latencyRow('delivery per recipient p50', (f) => f.delivery.p50),
    latencyRow('delivery per recipient p99', (f) => f.delivery.p99),
    latencyRow('completion p50', (f) => f.completion.p50),
    latencyRow('completion p99', (f) => f.completion.p99),
    row(
      'deliveries per second',
      b.deliveriesPerSecond.toFixed(0),
      p.deliveriesPerSecond.toFixed(0),
      h.deliveriesPerSecond.toFixed(0),
      x(p.deliveriesPerSecond, b.deliveriesPerSecond),
      x(h.deliveriesPerSecond, p.deliveriesPerSecond),
    ),
    row('lost / duplicated / timed out', flaws(b), flaws(p), flaws(h), '', ''),
    row('offsets missing/dup/foreign', '-', audit(channel.offsets.plain), audit(channel.offsets.history), '', ''),
    row('received outside the channels', '-', String(channel.outsideDeliveries), '', '', ''),
    '',
    `Setup: ${channel.subscribers} × 2 subscribes and their join events (${channel.setup.joinEvents} join frames) ` +
      `took ${channel.setup.seconds.toFixed(1)} s`,
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
