import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGAINST_AWS } from './target.js';
import { type ChatApp, type ChatOutcome, runChat } from './unchanged-apps/chat-scenario.js';
import type { IsolatedApp } from './unchanged-apps/run-chat.js';

const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURES = resolve(import.meta.dirname, 'fixtures');

/** Root with `unshare` and `ip`: a network namespace whose only interface is loopback. */
const unshare = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up'], { stdio: 'ignore' });
const ISOLATION = unshare.status === 0 ? undefined : 'unshare -n is unavailable here (it needs root and util-linux)';
const ISOLATED_TITLE = ISOLATION
  ? `the same in a loopback-only network namespace: skipped, ${ISOLATION}`
  : 'the same in a network namespace with nothing but loopback (unshare -n)';

/** Isolated children still running: ended when the suite ends, whatever happened. */
const running = new Set<ReturnType<typeof spawn>>();

/** Runs the scenarios in one child process that has no network but 127.0.0.1. */
function runIsolated(apps: IsolatedApp[]): Promise<Record<string, ChatOutcome | { error: string } | string[]>> {
  const script = resolve(import.meta.dirname, 'unchanged-apps/run-chat.ts');
  const tsx = resolve(ROOT, 'node_modules/.bin/tsx');
  const child = spawn(
    'unshare',
    ['-n', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', tsx, script, JSON.stringify(apps)],
    {
      cwd: ROOT,
      env: process.env,
    },
  );
  running.add(child);
  child.on('exit', () => running.delete(child));
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return new Promise((resolveOutcomes, reject) =>
    child.on('exit', (code) => {
      const last = output.trim().split('\n').pop() ?? '';
      if (code === 0) resolveOutcomes(JSON.parse(last));
      else reject(new Error(`isolated run exited with ${code}:\n${output}`));
    }),
  );
}

function expectChat(outcome: ChatOutcome, delivered = (_user: string, data: string) => data) {
  // Each broadcast reaches both clients, the sender included, as the samples broadcast.
  expect(outcome.received.alice).toEqual([delivered('alice', 'hello from alice'), delivered('bob', 'hi from bob')]);
  expect(outcome.received.bob).toEqual([delivered('alice', 'hello from alice'), delivered('bob', 'hi from bob')]);
  // The stale record got a 410 GoneException through the redirect, and the fixture pruned it.
  expect(outcome.staleRemains).toBe(false);
  expect(outcome.recordsAfterClose).toBe(0);
  expect(outcome.log.filter((line) => /failed|refused/.test(line))).toEqual([]);
  // Every socket the handlers opened went to the loopback (the local @connections and DynamoDB).
  expect(outcome.sandboxConnections.length).toBeGreaterThan(0);
  for (const target of outcome.sandboxConnections) expect(target).toMatch(/^127\.0\.0\.1:\d+$/);
}

describe.skipIf(AGAINST_AWS)('unchanged API Gateway WebSocket apps run in the emulator', () => {
  let bareCopy: string;
  /** All four apps in one isolated child, started at once and awaited by each app's test. */
  let isolated: Promise<Record<string, ChatOutcome | { error: string } | string[]>>;
  beforeAll(() => {
    // Outside the repository, node_modules resolution cannot find the repo's @aws-sdk.
    bareCopy = mkdtempSync(join(tmpdir(), 'chat-v3-bare-'));
    cpSync(join(FIXTURES, 'chat-v3-bare'), bareCopy, { recursive: true });
    if (ISOLATION) return;
    isolated = runIsolated(apps.map(([, app]) => ({ configPath: app().configPath, authHeader: app().authHeader })));
    // Awaited by the tests; marked handled now so a failure is reported there, not as unhandled.
    isolated.catch(() => {});
  });
  afterAll(async () => {
    // The child may still use the copy: end it first.
    for (const child of running) child.kill('SIGKILL');
    await isolated?.catch(() => {});
    rmSync(bareCopy, { recursive: true, force: true });
  });

  const apps: [string, () => ChatApp & { authHeader?: boolean }][] = [
    [
      'SDK v3 ESM, Management API endpoint built from apiId and region',
      () => ({
        configPath: join(FIXTURES, 'chat-v3-esm/serverless.yml'),
      }),
    ],
    [
      'SDK v3 from the runtime (no @aws-sdk installed), endpoint from domainName',
      () => ({
        configPath: join(bareCopy, 'serverless.yml'),
      }),
    ],
    [
      "SDK v2 CommonJS, DocumentClient, callback $connect, endpoint domainName + '/' + stage",
      () => ({
        configPath: join(FIXTURES, 'chat-v2-cjs/serverless.yml'),
      }),
    ],
    [
      'bundled CommonJS exports.default, callback handlers, REQUEST authorizer on a header',
      () => ({
        configPath: join(FIXTURES, 'chat-cjs-default/serverless.yml'),
        headers: (user) => ({ Auth: user }),
        delivered: (user, data) => `${user}: ${data}`,
        authHeader: true,
      }),
    ],
  ];

  it('the runtime-SDK fixture really has no @aws-sdk of its own where it runs', () => {
    const fromFixture = createRequire(join(bareCopy, 'index.mjs'));
    expect(() => fromFixture.resolve('@aws-sdk/client-dynamodb')).toThrow(/Cannot find module/);
  });

  describe.each(apps)('%s', (_name, app) => {
    // Generous: the isolated child starts four more dev servers on the same two cores meanwhile.
    it('two clients chat, a stale connection is pruned, every handler socket is on 127.0.0.1', async () => {
      const { delivered, ...rest } = app();
      expectChat(await runChat(rest), delivered);
    }, 90_000);

    it.skipIf(ISOLATION)(
      ISOLATED_TITLE,
      async () => {
        const { configPath, delivered } = app();
        const outcomes = await isolated;
        // The child saw nothing but the loopback interface.
        expect(outcomes.interfaces).toEqual(['lo']);
        const outcome = outcomes[configPath] as ChatOutcome | { error: string };
        if ('error' in outcome) throw new Error(outcome.error);
        expectChat(outcome, delivered);
      },
      120_000,
    );
  });
});
