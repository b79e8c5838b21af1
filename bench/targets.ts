import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { MemoryReport } from '../src/local/memory-probe.js';

const ROOT = resolve(import.meta.dirname, '..');

/** A server under test: where to connect and, when it runs here, how much memory it holds. */
export interface BenchTarget {
  name: string;
  wsUrl: string;
  /** After a full garbage collection (SIGUSR2): what the server holds; undefined for remote targets. */
  memory(): Promise<MemoryReport | undefined>;
  /** CPU seconds the server process has used so far; undefined for remote targets. */
  cpuSeconds(): number | undefined;
  stop(): Promise<void>;
}

/** The bare `ws` broadcast server, in its own process. */
export function startRawServer(): Promise<BenchTarget> {
  return startProcess('raw ws', [resolve(ROOT, 'bench/raw-ws-server.mjs')], /^(ws:\/\/\S+)/m);
}

/**
 * `npm run dev` (WebSocket side only), in its own process, as a developer runs it; `env` adds to
 * the environment it inherits (the channel scenario passes JWT_SECRET).
 */
export function startDevServer(nodeArgs: string[] = [], env: Record<string, string> = {}): Promise<BenchTarget> {
  return startProcess(
    'edge relay',
    [...nodeArgs, '--import', 'tsx', resolve(ROOT, 'src/local/dev.ts'), '--http-port', '0', '--ws-port', '0'],
    /WebSocket API\s+(ws:\/\/\S+)/,
    env,
  );
}

/** A deployed stage or another server: nothing to start, no memory figure. */
export function remoteTarget(wsUrl: string): BenchTarget {
  return { name: 'remote', wsUrl, memory: async () => undefined, cpuSeconds: () => undefined, stop: async () => {} };
}

function startProcess(
  name: string,
  args: string[],
  urlPattern: RegExp,
  env: Record<string, string> = {},
): Promise<BenchTarget> {
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
  });
  let output = '';
  const memoryWaiters: ((memory: MemoryReport) => void)[] = [];
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = urlPattern.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      // Keep draining the server's output (a full pipe would stall it) and pick out memory reports.
      child.stdout!.on('data', (data: Buffer) => {
        for (const report of data.toString().matchAll(/^memory (\{.*\})$/gm))
          memoryWaiters.shift()?.(JSON.parse(report[1]!));
      });
      resolvePromise({
        name,
        wsUrl: match[1]!,
        memory: () =>
          new Promise((resolveMemory) => {
            memoryWaiters.push(resolveMemory);
            child.kill('SIGUSR2');
          }),
        cpuSeconds: () => readCpuSeconds(child.pid!),
        stop: () =>
          new Promise((done) => {
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => {
      if (output.length < 100_000) output += chunk;
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${output}`)));
  });
}

/** utime + stime of a process, from /proc (clock ticks of 1/100 s on Linux). */
function readCpuSeconds(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}
