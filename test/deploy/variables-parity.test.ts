import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOslsConfiguration } from '../../src/local/osls-configuration.js';
import { loadServiceDefinition, type ServiceDefinition } from '../../src/local/serverless-config.js';
import { ROOT, runServerlessPackage, temporaryFolders } from './package-artifact.js';
import { devView, packagedView } from './resolution-parity.js';

/** A fixture using --param, stage params, ${file(x.js)} (values, functions), ${file(x.yml):key}, env, self, sls. */
const SERVICE_DIR = join(ROOT, 'test/fixtures/variables-service');
const STAGE = 'ci';
const REGION = 'eu-west-1';
const PARAMS = ['token=from-the-command-line'];
const ENV = { VARIABLES_FIXTURE_VALUE: 'from-the-environment' };

const folders = temporaryFolders();
let template: any;
let service: ServiceDefinition;

beforeAll(async () => {
  ({ template } = runServerlessPackage({
    serviceDir: SERVICE_DIR,
    stage: STAGE,
    region: REGION,
    args: PARAMS.map((param) => `--param=${param}`),
    packageDir: folders.make('package'),
    env: ENV,
  }));
  service = await loadServiceDefinition(join(SERVICE_DIR, 'serverless.yml'), {
    stage: STAGE,
    region: REGION,
    params: PARAMS,
    env: ENV,
  });
}, 120_000);
afterAll(() => folders.removeAll());

describe('a service using every local variable source: npm run dev reads what serverless package writes', () => {
  it('function names, timeouts, memory, environment and tables are the same', () => {
    expect(packagedView(template, service)).toEqual(devView(service));
  });

  it('the values are the ones the sources hold (the comparison above is not of two empty sides)', () => {
    expect(service.functions.hello).toMatchObject({
      deployedName: 'variables-ci-hello',
      timeoutSeconds: 4,
      memorySize: 256,
      environment: {
        GREETING: 'hello',
        TOKEN: 'from-the-command-line',
        LABEL: 'from-js',
        COMPUTED: 'variables-ci',
        FROM_YAML: 'variables-parts',
        FROM_ENV: 'from-the-environment',
        FROM_DOTENV: 'from-dotenv-ci',
        ENABLED: 'true',
        STAGE: 'ci',
        REGION: 'eu-west-1',
        TABLE: 'variables-ci-table',
        ONLY_HERE: 'variables-ci-hello',
      },
    });
    expect(service.functions.named).toMatchObject({ deployedName: 'variables-custom-ci', timeoutSeconds: 9 });
  });

  it('stage params, and resources from ${file(x.js)}, as in the template', async () => {
    const resolved = await readOslsConfiguration(join(SERVICE_DIR, 'serverless.yml'), {
      stage: STAGE,
      region: REGION,
      params: PARAMS,
      env: ENV,
    });
    const logGroups = Object.values(template.Resources as Record<string, any>).filter(
      (r) => r.Type === 'AWS::Logs::LogGroup',
    );
    expect(resolved.provider.logRetentionInDays).toBe(14);
    expect(logGroups.map((r) => r.Properties.RetentionInDays)).toEqual([14, 14]);
    const outputs = resolved.resources.Outputs as Record<string, unknown>;
    expect(outputs).toEqual({ Greeting: { Value: 'hello' }, TableName: { Value: { Ref: 'Table' } } });
    for (const [name, output] of Object.entries(outputs)) expect(template.Outputs[name]).toEqual(output);
  });
});
