import { type ChildProcess, spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/dev-command.js';
import { connectClient, type TestClient } from '../helpers/ws-client.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');
const CONFIG = 'test/fixtures/startup-and-errors/serverless.yml';

/** A port free right now: the test must know it before the server prints it. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** Resolves the moment a TCP connection to the port succeeds (the server is listening). */
async function portOpen(port: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const opened = await new Promise<boolean>((r) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        r(true);
      });
      socket.on('error', () => r(false));
    });
    if (opened) return;
    if (Date.now() > deadline) throw new Error(`port ${port} did not open`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('npm run dev: ready means ready, and failed invocations show in the terminal', () => {
  let child: ChildProcess;
  let output = '';
  let url: string;
  /** What the terminal showed when the port first accepted a TCP connection. */
  let outputAtPortOpen: string;
  /** The client that connected the moment the port opened. */
  let early: TestClient | Error;

  beforeAll(async () => {
    const port = await freePort();
    url = `ws://127.0.0.1:${port}/local`;
    child = spawn(TSX, ['src/local/dev.ts', '--config', CONFIG, '--ws-port', String(port), '--http-port', '0'], {
      cwd: ROOT,
      env: { ...process.env, DYNAMODB_ENDPOINT: '' },
    });
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    await portOpen(port);
    outputAtPortOpen = output;
    early = await connectClient(url).catch((error: Error) => error);
  }, 90_000);

  afterAll(async () => {
    if (!(early instanceof Error)) await early.close();
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  });

  it('a client that connects as soon as the port opens, while the handlers load, gets a normal connect', async () => {
    // The handler module takes 800 ms to load: the port opened before the functions had.
    expect(outputAtPortOpen).not.toMatch(/loaded in/);
    expect(early).not.toBeInstanceOf(Error);
    const client = early as TestClient;
    client.send({ action: 'hello' });
    expect(await client.next(10_000)).toEqual({ action: 'hello' });
  });

  it('prints each function, its handler and that it loaded', async () => {
    await waitFor(() => /functions/.test(output));
    expect(output).toMatch(/functions\s+connect\s+loaded in \d+ ms {2}\(handlers\.connect\)\n/);
    for (const name of ['echo', 'broadcast', 'crash']) {
      expect(output).toMatch(new RegExp(`\\n\\s+${name}\\s+loaded in \\d+ ms {2}\\(handlers\\.${name}\\)\\n`));
    }
  });

  it('a route that returns an error status is one line: route, function, status and body', async () => {
    const client = await connectClient(url);
    client.send({ action: 'broadcast' });
    await waitFor(() => /broadcast \(function/.test(output));
    expect(output).toContain(
      'broadcast (function broadcast) returned 500: Failed to post: GoneException (stale connection)\n',
    );
    await client.close();
  });

  it('a route whose handler throws is logged with its stack, and the caller gets the gateway error frame', async () => {
    const client = await connectClient(url);
    client.send({ action: 'crash' });
    expect(await client.next(10_000)).toMatchObject({ message: 'Internal server error' });
    await waitFor(() => /crash \(function crash\) failed/.test(output));
    expect(output).toMatch(
      /crash \(function crash\) failed: Error: broadcast crashed\n\s+at crash \(\S+startup-and-errors\/handlers\.mjs:\d+:\d+\)/,
    );
    expect(output).not.toMatch(/lambda-worker\.mjs/);
    await client.close();
  });

  it('a $connect that refuses with an error status logs its body', async () => {
    await expect(connectClient(`${url}?refuse=yes`)).rejects.toMatchObject({ statusCode: 500 });
    await waitFor(() => /\$connect \(function connect\) returned/.test(output));
    expect(output).toContain('$connect (function connect) returned 500: Failed to connect: table missing\n');
  });
});
