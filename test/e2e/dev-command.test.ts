import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/dev-command.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');

/** Runs `npm run dev`'s entry point (the same command, without npm's banner). */
function dev(
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(TSX, ['src/local/dev.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env } });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, output: () => output, exited };
}

describe('npm run dev', () => {
  const children: ChildProcess[] = [];
  let blocker: Server | undefined;
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGTERM');
    blocker?.close();
  });

  it('prints the URLs it serves once ready, and they answer', async () => {
    const run = dev(['--http-port', '0', '--ws-port', '0']);
    children.push(run.child);

    await waitFor(() => /Management API/.test(run.output()));
    const httpUrl = /chat page and HTTP API\s+(http:\/\/\S+)/.exec(run.output())![1]!;
    const wsUrl = /WebSocket API\s+(ws:\/\/\S+)/.exec(run.output())![1]!;

    expect(await (await fetch(`${httpUrl}/health`)).json()).toEqual({ status: 'ok' });
    expect(await fetch(`${httpUrl}/config.json`).then((r) => r.json())).toEqual({ websocketUrl: wsUrl });
  });

  it("--config runs another service's WebSocket functions", async () => {
    const run = dev([
      '--config',
      'test/conformance/fixtures/strict/serverless.yml',
      '--http-port',
      '0',
      '--ws-port',
      '0',
    ]);
    children.push(run.child);

    await waitFor(() => /routes/.test(run.output()));

    expect(run.output()).toMatch(/Edge Relay dev server \(strict, stage local\)/);
    expect(run.output()).toMatch(/routes\s+ping\n/);
    expect(run.output()).not.toContain('chat page');
  });

  it('a port in use gives one clear line naming the port and the setting, and exit code 1', async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker!.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;

    const run = dev(['--http-port', '0'], { WS_PORT: String(port) });
    children.push(run.child);

    expect(await run.exited).toBe(1);
    const lines = run
      .output()
      .trim()
      .split('\n')
      .filter((line) => line.startsWith('error'));
    expect(lines).toEqual([
      `error: port ${port} is already in use: stop what uses it or choose another with WS_PORT or --ws-port`,
    ]);
  });

  it('rejects a malformed port with a message naming the option', async () => {
    const run = dev(['--http-port', 'eighty']);
    children.push(run.child);
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain('--http-port / HTTP_PORT must be a port number');
  });

  it('--help lists the options', async () => {
    const run = dev(['--help']);
    expect(await run.exited).toBe(0);
    expect(run.output()).toMatch(/--ws-port[\s\S]*--idle-timeout[\s\S]*--max-connection-duration/);
  });
});
