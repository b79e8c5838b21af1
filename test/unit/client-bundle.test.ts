import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const BUNDLE = resolve(ROOT, 'dist/client/edge-relay-client.js');
/** Issue 13's budget for the minified + gzipped library. */
const BUDGET_BYTES = 6 * 1024;

let buildOutput: string;

beforeAll(() => {
  // The package script itself, as `npm ci` runs it from `prepare`.
  buildOutput = execFileSync('npm', ['run', '--silent', 'build:client'], { cwd: ROOT, encoding: 'utf8' });
}, 60_000);

describe('the client bundle', () => {
  it(`is under ${BUDGET_BYTES} bytes minified + gzipped, and the build prints that size`, () => {
    const gzipped = gzipSync(readFileSync(BUNDLE), { level: 9 }).length;

    expect(gzipped).toBeLessThanOrEqual(BUDGET_BYTES);
    expect(buildOutput).toContain(`${gzipped} B gzipped`);
  });

  it('has no runtime dependencies and no Node-only imports: nothing is imported', () => {
    const code = readFileSync(BUNDLE, 'utf8');

    expect(code).not.toMatch(/\bimport\s*[\w{*(]|\brequire\(|node:/);
    expect(code).toMatch(/export\s*\{/);
  });

  it("`edge-relay/client` resolves from the project's root in Node and with tsx (package.json exports)", () => {
    const script = "import { createClient } from 'edge-relay/client'; console.log(typeof createClient);";
    const node = execFileSync('node', ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    const tsx = execFileSync('npx', ['tsx', '-e', script], { cwd: ROOT, encoding: 'utf8' });

    expect(node.trim()).toBe('function');
    expect(tsx.trim()).toBe('function');
  });
});
