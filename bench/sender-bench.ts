import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { createManagementSender } from '../src/aws/management-sender.js';
import { createSignedHttpSender } from '../src/aws/signed-http-sender.js';
import type { Sender } from '../src/core/index.js';

/** CPU per PostToConnection, in the sending process, for each way of sending. */
export interface SenderBenchResult {
  calls: number;
  cpuMsPerCall: Record<'edgeRelaySender' | 'sdkCommand' | 'bareHttpPost', number>;
}

const CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench' };
const PAYLOAD = JSON.stringify({
  type: 'message',
  data: { text: 'x'.repeat(80) },
  from: 'AbCdEfGhIjKlMnO=',
  id: '00000000-0000-0000-0000-000000000000',
  ts: 0,
});

/** A trivial server in its own process that answers every request 200, like a happy @connections. */
async function startTrivialServer(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `
    const server = require('node:http').createServer((req, res) => {
      req.resume();
      req.on('end', () => { res.writeHead(200, {'content-length': '0'}); res.end(); });
    });
    server.keepAliveTimeout = 60000;
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));
  `,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { url: `http://127.0.0.1:${chunk.toString().trim()}`, child };
}

async function cpuPerCall(send: (i: number) => Promise<void>, calls: number, concurrency: number): Promise<number> {
  const run = async (count: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) await send(next++);
      }),
    );
  };
  await run(2000); // warm up: JIT, sockets, signing key cache
  // The median of three rounds: this machine's other work shows up as outliers.
  const rounds: number[] = [];
  for (let round = 0; round < 3; round++) {
    const before = process.cpuUsage();
    await run(calls);
    const used = process.cpuUsage(before);
    rounds.push((used.user + used.system) / 1000 / calls);
  }
  return rounds.sort((a, b) => a - b)[1]!;
}

export async function runSenderBench(calls = 4000, concurrency = 32): Promise<SenderBenchResult> {
  const server = await startTrivialServer();
  try {
    const endpoint = `${server.url}/bench`;
    const lean: Sender = createSignedHttpSender({
      endpoint,
      region: 'us-east-1',
      credentials: CREDENTIALS,
      maxSockets: concurrency,
    });
    const sdk = createManagementSender({ endpoint, region: 'us-east-1', credentials: CREDENTIALS });
    const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
    // The floor: an unsigned keep-alive POST with node:http, body encoded once as the senders do.
    const body = Buffer.from(PAYLOAD);
    const bare = (i: number) =>
      new Promise<void>((resolve, reject) => {
        const req = request(
          `${endpoint}/@connections/c${i}`,
          { method: 'POST', agent, headers: { 'content-length': body.length } },
          (res) => {
            res.resume();
            res.on('end', resolve);
          },
        );
        req.on('error', reject);
        req.end(body);
      });

    const result = {
      calls,
      cpuMsPerCall: {
        edgeRelaySender: await cpuPerCall((i) => lean.send(`c${i}`, PAYLOAD), calls, concurrency),
        sdkCommand: await cpuPerCall((i) => sdk.send(`c${i}`, PAYLOAD), calls, concurrency),
        bareHttpPost: await cpuPerCall(bare, calls, concurrency),
      },
    };
    sdk.destroy();
    agent.destroy();
    return result;
  } finally {
    server.child.kill();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await runSenderBench());
}
