import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDevUntilReadyOrExit } from '../helpers/dev-command.js';

// Outside the repository: no node_modules above, as a service deployed without dependencies.
let dir: string;
const COMMAND_TIMEOUT_MS = 60_000;
// Made and removed around the tests (a filtered run that skips them all leaves nothing behind).
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'edge-relay-handlers-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `npm run dev` on a one-function service whose handler is `handler`; resolves once it exits or is ready. */
function dev(handler: string): Promise<{ code: number | null; output: string }> {
  const caseDir = mkdtempSync(join(dir, 'case-'));
  writeFileSync(
    join(caseDir, 'serverless.yml'),
    `service: handlers\nprovider:\n  name: aws\n  runtime: nodejs20.x\nfunctions:\n  chat:\n    handler: ${handler}\n` +
      '    events:\n      - websocket: $default\n',
  );
  writeFileSync(join(caseDir, 'index.js'), 'exports.handler = async () => ({ statusCode: 200 });\n');
  writeFileSync(join(caseDir, 'queue.mjs'), "import '@aws-sdk/client-sqs';\nexport const handler = async () => {};\n");
  return runDevUntilReadyOrExit(join(caseDir, 'serverless.yml'));
}

describe('npm run dev, a handler Lambda could not load: one line naming function, handler, what is missing', () => {
  it.each([
    [
      'a missing export',
      'index.connect',
      /^error: function chat: handler "index.connect": connect is undefined or not exported by .*index.js$/,
    ],
    [
      'a missing file',
      'src/chat.handler',
      /^error: function chat: handler "src\/chat.handler": module chat not found in .*\/src /,
    ],
    [
      'an SDK v3 package the emulator lacks',
      'queue.handler',
      /^error: function chat: handler "queue.handler": package @aws-sdk\/client-sqs is not installed .*provides/,
    ],
  ])(
    '%s',
    async (_case, handler, message) => {
      const { code, output } = await dev(handler);
      expect(output.trim().split('\n')).toHaveLength(1);
      expect(output.trim()).toMatch(message);
      expect(code).toBe(1);
    },
    COMMAND_TIMEOUT_MS,
  );

  it(
    'a CommonJS handler outside any package loads with require, as on Lambda',
    async () => {
      const { output } = await dev('index.handler');
      expect(output).toMatch(/routes\s+\$default/);
    },
    COMMAND_TIMEOUT_MS,
  );
});
