import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');

/**
 * Runs `npm run dev`'s entry point on `configPath` (free ports, embedded DynamoDB) and resolves with its exit code
 * and output once it exits, or once it is ready (then it is stopped). A run that does neither is killed at `killAfterMs`.
 */
export function runDevUntilReadyOrExit(
  configPath: string,
  args: string[] = [],
  killAfterMs = 55_000,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    TSX,
    ['src/local/dev.ts', '--config', configPath, '--http-port', '0', '--ws-port', '0', ...args],
    {
      cwd: ROOT,
      env: { ...process.env, DYNAMODB_ENDPOINT: '' },
    },
  );
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  let output = '';
  return new Promise((resolvePromise) => {
    const collect = (chunk: Buffer) => {
      output += chunk;
      // Ready: it started, which is the answer for the cases that must start.
      if (/routes\s/.test(output)) child.kill('SIGTERM');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolvePromise({ code, output });
    });
  });
}

/** Polls until `predicate` holds (output printed, a process ready); rejects after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
