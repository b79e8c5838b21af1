import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runServerlessPackage, temporaryFolders } from './package-artifact.js';

const require = createRequire(import.meta.url);
const DeployGuard = require('../../tools/deploy-guard.cjs');

const folders = temporaryFolders();
afterAll(() => folders.removeAll());

/** The developer's own JWT settings must not make a stage look configured. */
const NO_JWT_ENV = { JWT_SECRET: '', JWT_JWKS_URL: '' };
const SECRET = 'a-deploy-test-secret-long-enough-for-hs256';

/** What the real command prints when it stops, or undefined when it went through. */
function failureOf(command: 'package' | 'deploy', params: string[], stage = 'ci'): string | undefined {
  try {
    runServerlessPackage({
      command,
      stage,
      region: 'eu-west-1',
      args: params.map((param) => `--param=${param}`),
      packageDir: folders.make(command),
      // deploy starts a fire-and-forget account-id lookup (telemetry) before any plugin runs; offline,
      // osls would retry it for ~20 s before exiting.
      env: { ...NO_JWT_ENV, SLS_AWS_REQUEST_MAX_RETRIES: '0' },
    });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

describe('secure by default: the real serverless CLI refuses an open or closed stage', () => {
  it('package without publishToken or a JWT key fails, naming both and how to give them', () => {
    const output = failureOf('package', []);

    expect(output).toContain('Stage "ci" is not safe to deploy');
    expect(output).toMatch(/no publishToken: the server API .* anyone on the internet .*--param="publishToken=/);
    expect(output).toMatch(
      /no one could connect: .*--param="jwtSecret=.*--param="jwksUrl=.*--param="allowAnonymous=true"/,
    );
    // It stopped before bundling anything.
    expect(output).not.toContain('Function zipped');
  });

  it('deploy stops the same way, before building or uploading anything', () => {
    const output = failureOf('deploy', [`jwtSecret=${SECRET}`]);

    expect(output).toMatch(
      /^serverless deploy failed \(1\):\nError:\nStage "ci" is not safe to deploy:\n {2}- no publishToken/,
    );
    expect(output).not.toContain('no one could connect');
    expect(output).not.toMatch(/Function zipped|Uploading|CloudFormation/);
  });

  it('a short publish token or JWT secret is refused too', () => {
    const output = failureOf('package', ['publishToken=secret', 'jwtSecret=short']);

    expect(output).toMatch(/publishToken has 6 characters \(spaces aside\); use at least 16/);
    expect(output).toMatch(/has 5 bytes; HS256 needs at least 32/);
  });
});

/** serverless as the plugin sees it once variables are resolved: just the parts it reads. */
function guardFor(stage: string, functions: Record<string, Record<string, unknown>>, commands = ['package']) {
  class ServerlessError extends Error {}
  const serverless = {
    classes: { Error: ServerlessError },
    processedInput: { commands },
    service: {
      provider: { stage, environment: { CONNECTIONS_TABLE: { Ref: 'ConnectionsTable' } } },
      getAllFunctions: () => Object.keys(functions),
      getFunction: (name: string) => ({ environment: functions[name] }),
    },
  };
  const guard = new DeployGuard(serverless, { stage });
  return () => guard.hooks.initialize();
}

const TOKEN = 'a-publish-token-long-enough';

describe('tools/deploy-guard.cjs decides on the resolved environment', () => {
  it.each([
    ['a secret and a token', { JWT_SECRET: SECRET, ALLOW_ANONYMOUS: 'false' }, TOKEN],
    [
      'a JWKS over https with its issuer',
      {
        JWT_JWKS_URL: 'https://issuer.example/.well-known/jwks.json',
        JWT_ISSUER: 'https://issuer.example/',
        JWT_SECRET: '',
      },
      TOKEN,
    ],
    ['anonymous connections asked for', { JWT_SECRET: '', ALLOW_ANONYMOUS: 'true' }, TOKEN],
    ['values CloudFormation fills in', { JWT_SECRET: { 'Fn::ImportValue': 'secret' } }, { Ref: 'Token' }],
    [
      'dynamic references',
      { JWT_JWKS_URL: '{{resolve:ssm:/relay/jwks-url}}' },
      '{{resolve:secretsmanager:relay:SecretString:publishToken}}',
    ],
  ])('lets %s through', (_name, authorize, token) => {
    const check = guardFor('ci', { authorize, http: { PUBLISH_TOKEN: token } });
    expect(check).not.toThrow();
  });

  it('refuses a JWKS over plain http', () => {
    const check = guardFor('ci', {
      authorize: { JWT_JWKS_URL: 'http://issuer.example/jwks.json' },
      http: { PUBLISH_TOKEN: TOKEN },
    });
    expect(check).toThrow(/JWKS URL of function "authorize" must be https/);
  });

  it('guards stage local too: npm run dev loads no plugins, a deploy of its open params must not pass', () => {
    const check = guardFor('local', {
      authorize: { JWT_SECRET: '', ALLOW_ANONYMOUS: 'true' },
      http: { PUBLISH_TOKEN: '' },
    });
    expect(check).toThrow(/no publishToken/);
  });

  it('refuses a JWKS without an issuer', () => {
    const check = guardFor('ci', {
      authorize: { JWT_JWKS_URL: 'https://issuer.example/.well-known/jwks.json', JWT_ISSUER: '' },
      http: { PUBLISH_TOKEN: TOKEN },
    });
    expect(check).toThrow(/JWKS without an issuer/);
  });

  it('counts a publish token of spaces as too short', () => {
    const check = guardFor('ci', { authorize: { JWT_SECRET: SECRET }, http: { PUBLISH_TOKEN: ' '.repeat(20) } });
    expect(check).toThrow(/publishToken has 0 characters/);
  });

  it('ignores services without these settings', () => {
    expect(guardFor('prod', { hello: { GREETING: 'hi' } })).not.toThrow();
  });

  it.each([['deploy'], ['deploy', 'function']])(
    'checks %s too; not the commands that change nothing',
    (...commands) => {
      const open = { authorize: { JWT_SECRET: '' }, http: { PUBLISH_TOKEN: '' } };
      expect(guardFor('ci', open, commands)).toThrow(/not safe to deploy/);
      for (const other of [['info'], ['remove'], ['print']]) expect(guardFor('ci', open, other)).not.toThrow();
    },
  );
});

it('serverless.yml lists the guard as a plugin', async () => {
  const { readFileSync } = await import('node:fs');
  expect(readFileSync(join(ROOT, 'serverless.yml'), 'utf8')).toMatch(/plugins:[\s\S]*- \.\/tools\/deploy-guard\.cjs/);
});
