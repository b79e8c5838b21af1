import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDevUntilReadyOrExit } from '../helpers/dev-command.js';

const dir = mkdtempSync(join(tmpdir(), 'edge-relay-config-'));
/** Each case starts the command (tsx, osls): seconds, more on a loaded machine. */
const COMMAND_TIMEOUT_MS = 60_000;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `npm run dev`'s entry point on a serverless.yml written for the case; resolves once it exits or is ready. */
function dev(yaml: string, args: string[] = []): Promise<{ code: number | null; output: string }> {
  const caseDir = mkdtempSync(join(dir, 'case-'));
  writeFileSync(join(caseDir, 'serverless.yml'), yaml);
  writeFileSync(join(caseDir, 'handlers.mjs'), 'export const echo = async () => ({ statusCode: 200 });\n');
  writeFileSync(join(caseDir, 'broken.cjs'), "throw new Error('broken.cjs cannot load');\n");
  return runDevUntilReadyOrExit(join(caseDir, 'serverless.yml'), args);
}

const service = (environment: string, handler = 'handlers.echo') => `service: bad
provider:
  name: aws
  runtime: nodejs22.x
  environment:
    VALUE: ${environment}
functions:
  echo:
    handler: ${handler}
    events:
      - websocket: $default
`;

describe('npm run dev with a bad serverless.yml: one error line (what and where), exit code 1, no stack', () => {
  it.each([
    [
      'YAML syntax',
      'service: bad\nprovider:\n  name: aws\n   runtime: nodejs22.x\n',
      /Cannot parse "serverless.yml": bad indentation.*\(4:\d+\)/,
    ],
    [
      'an unknown variable source',
      service('${nope:thing}'),
      /unknown variable source "nope" at "provider.environment.VALUE"/,
    ],
    ['a missing file', service('${file(./missing.yml):key}'), /provider.environment.VALUE.*"file" source.*missing.yml/],
    ['a file that throws', service('${file(./broken.cjs):key}'), /broken.cjs cannot load/],
    ['a handler without a dot', service('x', 'handlers'), /functions.echo.handler: "handlers" is not a handler/],
    ['an env variable that is not set', service('${env:EDGE_RELAY_UNSET_VARIABLE}'), /"env" source/],
    [
      'a source that needs AWS',
      service('${ssm:/relay/token}'),
      /\$\{ssm:\/relay\/token\} reads SSM Parameter Store.*--param="NAME=value"/,
    ],
    ['the account id, which needs STS', service('${aws:accountId}'), /\$\{aws:accountId\} reads the AWS account id/],
  ])(
    '%s',
    async (_case, yaml, message) => {
      const { code, output } = await dev(yaml);
      expect(output).toMatch(/^error: /);
      expect(output).toMatch(message);
      expect(output).not.toMatch(/^\s+at /m);
      expect(code).toBe(1);
    },
    COMMAND_TIMEOUT_MS,
  );

  it(
    '--param gives the local value a source that needs AWS falls back from',
    async () => {
      const yaml = service('${param:token, ssm:/relay/token}');
      expect((await dev(yaml)).output).toMatch(/error: .*ssm:\/relay\/token/);
      const started = await dev(yaml, ['--param', 'token=local-value']);
      expect(started.output).toMatch(/routes\s+\$default/);
    },
    COMMAND_TIMEOUT_MS,
  );
});
