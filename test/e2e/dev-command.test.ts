import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { DEV_SECRET_FILE } from '../../src/local/dev-tokens.js';
import { waitFor } from '../helpers/dev-command.js';
import { startTestServer } from '../helpers/dev-server.js';
import { connectClient } from '../helpers/ws-client.js';

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

    expect(run.output()).toContain(`dev tokens              POST ${httpUrl}/dev/token {"user":"alice"}`);
    expect(await (await fetch(`${httpUrl}/health`)).json()).toEqual({ status: 'ok' });
    // The emulator's connection limits too (AWS's by default), so the page's heartbeat and handover follow them.
    expect(await fetch(`${httpUrl}/config.json`).then((r) => r.json())).toEqual({
      websocketUrl: wsUrl,
      idleTimeoutSeconds: 600,
      maxConnectionSeconds: 7200,
    });
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

/** Runs `npm run token`'s entry point; resolves with its exit code, stdout and stderr. */
function token(args: string[], env: Record<string, string> = {}) {
  const child = spawn(TSX, ['src/local/token-cli.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolvePromise) =>
    child.on('exit', (code) => resolvePromise({ code, stdout, stderr })),
  );
}

describe('npm run token', () => {
  const noSecret = { JWT_SECRET: '' };

  it('prints only a token for the dev secret, kept on disk (0600) and reused by every run and by npm run dev', async () => {
    const first = await token(
      ['--user', 'alice', '--info', '{"name":"Alice"}', '--channels', '{"chat:*":["subscribe"]}'],
      noSecret,
    );
    const second = await token(['--user', 'bob'], noSecret);

    expect([first.code, first.stderr]).toEqual([0, '']);
    expect(first.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const file = join(ROOT, DEV_SECRET_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const key = new TextEncoder().encode(readFileSync(file, 'utf8').trim());
    const { payload } = await jwtVerify(first.stdout.trim(), key, { algorithms: ['HS256'] });
    expect(payload).toMatchObject({ sub: 'alice', info: { name: 'Alice' }, channels: { 'chat:*': ['subscribe'] } });
    // 24 hours unless asked otherwise.
    expect(payload.exp! - payload.iat!).toBe(24 * 3600);
    expect((await jwtVerify(second.stdout.trim(), key)).payload.sub).toBe('bob');

    // A dev server started later (another process reading the same file) accepts the CLI's token.
    const server = await startTestServer({
      http: false,
      env: { ...process.env, ...noSecret, POWERTOOLS_LOG_LEVEL: 'SILENT' },
    });
    try {
      const client = await connectClient(`${server.wsUrl}/?token=${first.stdout.trim()}`);
      expect([...server.webSocketApi.connections.values()][0]!.authorizer).toMatchObject({ userId: 'alice' });
      await client.close();
    } finally {
      await server.close();
    }
  });

  it('signs with JWT_SECRET when it is set', async () => {
    const secret = 'the-developers-own-secret-of-32-bytes+';
    const run = await token(['--user', 'carol', '--expires-in', '15m'], { JWT_SECRET: secret });

    const { payload } = await jwtVerify(run.stdout.trim(), new TextEncoder().encode(secret));
    expect(payload.sub).toBe('carol');
    expect(payload.exp! - payload.iat!).toBe(15 * 60);
  });

  it.each([
    [[], /^error: --user is required/],
    [['--user'], /^error: Option '--user <value>' argument missing/],
    [['--user', 'a', '--colour', 'red'], /^error: Unknown option '--colour'/],
    [['--user', 'a', '--channels', '{nope'], /^error: --channels must be JSON/],
    [['--user', 'a', '--channels', '{"chat:*":["fly"]}'], /^error: "channels" "chat:\*" must list operations/],
    [['--user', 'a', '--info', '[1]'], /^error: "info" must be a JSON object/],
    [['--user', 'a', '--expires-in', 'soon'], /^error: --expires-in must be a span like 15m/],
  ])('%j: one line on stderr, exit code 1', async (args, message) => {
    const run = await token(args, noSecret);

    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(message)]);
  });
});
