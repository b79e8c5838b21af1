import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

/** A server under test: where to connect and, when it runs here, how much memory it holds. */
export interface BenchTarget {
  name: string;
  wsUrl: string;
  /** Resident memory of the server process in bytes; undefined for remote targets. */
  rssBytes(): number | undefined;
  stop(): Promise<void>;
}

/** The bare `ws` broadcast server, in its own process. */
export function startRawServer(): Promise<BenchTarget> {
  return startProcess('raw ws', [resolve(ROOT, 'bench/raw-ws-server.mjs')], /^(ws:\/\/\S+)/m);
}

/** `npm run dev` (WebSocket side only), in its own process, as a developer runs it. */
export function startDevServer(nodeArgs: string[] = []): Promise<BenchTarget> {
  return startProcess('edge relay', [...nodeArgs, '--import', 'tsx', resolve(ROOT, 'src/local/dev.ts'), '--http-port', '0', '--ws-port', '0'], /WebSocket API\s+(ws:\/\/\S+)/);
}

/** A deployed stage or another server: nothing to start, no memory figure. */
export function remoteTarget(wsUrl: string): BenchTarget {
  return { name: 'remote', wsUrl, rssBytes: () => undefined, stop: async () => {} };
}

function startProcess(name: string, args: string[], urlPattern: RegExp): Promise<BenchTarget> {
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  let output = '';
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = urlPattern.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      resolvePromise({
        name,
        wsUrl: match[1]!,
        rssBytes: () => readRss(child.pid!),
        stop: () => new Promise((done) => {
          child.once('exit', () => done());
          child.kill('SIGTERM');
        }),
      });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${output}`)));
  });
}

function readRss(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status);
    return kb ? Number(kb[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
