import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from '../helpers/ws-client.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');
const CONFIG = 'test/conformance/fixtures/chat-v2-cjs/serverless.yml';

describe('npm run dev -- --config runs another service unchanged (SDK v2 CommonJS chat)', () => {
  let child: ChildProcess;
  let output = '';
  let wsUrl: string;

  beforeAll(async () => {
    child = spawn(TSX, ['src/local/dev.ts', '--config', CONFIG, '--ws-port', '0', '--http-port', '0'], {
      cwd: ROOT,
      env: { ...process.env, DYNAMODB_ENDPOINT: '' },
    });
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    wsUrl = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready banner:\n${output}`)), 80_000);
      const check = () => {
        const url = /WebSocket API\s+(ws:\/\/\S+)/.exec(output)?.[1];
        if (url && /routes/.test(output)) {
          clearTimeout(timer);
          resolveUrl(url);
        }
      };
      child.stdout!.on('data', check);
      child.once('exit', (code) => reject(new Error(`npm run dev exited with ${code}:\n${output}`)));
    });
  }, 90_000);

  afterAll(async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  });

  it('two clients chat through the CLI, and no invocation fails', async () => {
    const alice = await connectClient(`${wsUrl}/local`);
    const bob = await connectClient(`${wsUrl}/local`);
    alice.send({ action: 'sendmessage', data: 'hello from alice' });
    // The handler posts the raw data to every connection, the sender included.
    expect(await bob.next(10_000)).toBe('hello from alice');
    expect(await alice.next(10_000)).toBe('hello from alice');
    await alice.close();
    await bob.close();
    expect(output).not.toMatch(/returned [45]\d\d|failed/);
  }, 30_000);
});
