import { createRequire } from 'node:module';
import { basename, dirname, relative, resolve } from 'node:path';
import { ServiceConfigError } from './service-config-error.js';

/**
 * serverless.yml read and resolved by osls itself (the framework `serverless package` and
 * `serverless deploy` run), wired as its CLI (osls/scripts/serverless.js) wires it: the same
 * reader, the same variable resolver and sources, the same merge of `resources` and the same
 * function names. Only the sources that would call AWS are replaced, by a clear error.
 */
export interface OslsReadOptions {
  stage?: string;
  region?: string;
  /** `--param="key=value"` as given on the command line. */
  params?: string[];
  /** What `${env:...}` reads; process.env when absent. */
  env?: Record<string, string | undefined>;
}

/** The service after variables are resolved; CloudFormation intrinsics are still in it. */
export interface ResolvedService {
  service: string;
  provider: Record<string, unknown>;
  /** Function key → its configuration, with `name` set as osls sets it (`service-stage-key`). */
  functions: Record<string, Record<string, unknown>>;
  /** `resources` merged into one fragment when it is a list, as osls does. */
  resources: Record<string, unknown>;
}

const require = createRequire(import.meta.url);
const osls = (path: string) => require(`osls/lib/${path}`);

type VariablesMeta = Map<string, { value?: unknown; error?: Error; variables?: unknown[] }>;
type Source = { resolve(input: Record<string, unknown>): unknown };

/** The sources osls registers only with an AWS provider; each would call an AWS API. */
const AWS_SOURCES: Record<string, string> = {
  ssm: 'SSM Parameter Store',
  cf: 'CloudFormation stack outputs',
  s3: 'S3',
  aws: 'the AWS account id (STS)',
};

export async function readOslsConfiguration(configPath: string, options: OslsReadOptions): Promise<ResolvedService> {
  const file = resolve(configPath);
  try {
    return await read(file, options);
  } catch (error) {
    if (error instanceof ServiceConfigError) throw error;
    if (isServerlessError(error)) {
      // osls's parse errors already name the file, with line, column and the lines around.
      const message = withoutStack(error.message);
      const named = message.includes(`"${basename(file)}"`);
      throw new ServiceConfigError(named ? message : `${shownPath(file)}: ${message}`, { cause: error });
    }
    throw error;
  }
}

async function read(file: string, options: OslsReadOptions): Promise<ResolvedService> {
  const Serverless = osls('serverless');
  const ServerlessError = osls('serverless-error');
  const configuration = await osls('configuration/read')(file);
  const variablesMeta: VariablesMeta = osls('configuration/variables/resolve-meta')(configuration);
  throwResolutionErrors(variablesMeta, file);

  const serviceDir = dirname(file);
  const cliOptions = {
    ...(options.stage !== undefined && { stage: options.stage }),
    ...(options.region !== undefined && { region: options.region }),
    ...(options.params?.length && { param: options.params }),
  };
  const serverless = new Serverless({
    configuration,
    serviceDir,
    configurationFilename: basename(file),
    commands: ['package'],
    options: cliOptions,
    variablesMeta,
  });
  // What `serverless.init()` sets for `${sls:instanceId}`, without loading plugins.
  serverless.instanceId = Date.now().toString();

  let env = options.env ?? process.env;
  const sources: Record<string, Source> = {
    env: envSource(() => env),
    file: osls('configuration/variables/sources/file'),
    opt: osls('configuration/variables/sources/opt'),
    self: osls('configuration/variables/sources/self'),
    strToBool: osls('configuration/variables/sources/str-to-bool'),
    sls: osls('configuration/variables/sources/instance-dependent/get-sls')(serverless),
    param: osls('configuration/variables/sources/instance-dependent/param')(serverless),
  };
  for (const [type, what] of Object.entries(AWS_SOURCES)) sources[type] = awsSource(type, what, ServerlessError);
  // ${aws:region} needs no AWS call: osls's own source answers it, as under `serverless package`.
  const oslsAws: Source = osls('configuration/variables/sources/instance-dependent/get-aws')(serverless);
  const accountId = sources.aws!;
  sources.aws = { resolve: (input) => (input.address === 'accountId' ? accountId : oslsAws).resolve(input) };

  const resolveVariables = async (propertyPathsToResolve: Set<string> | null) => {
    if (variablesMeta.size === 0) return;
    await osls('configuration/variables/resolve')({
      serviceDir,
      configuration,
      variablesMeta,
      sources,
      options: cliOptions,
      fulfilledSources: new Set(Object.keys(sources)),
      propertyPathsToResolve,
      variableSourcesInConfig: new Set(),
    });
    throwResolutionErrors(variablesMeta, file);
  };
  // As the CLI does: `provider.stage` and `useDotenv` first, then the `.env` files, then the rest.
  await resolveVariables(new Set(['provider\0stage', 'useDotenv']));
  if (configuration.useDotenv) {
    env = withDotenv(env, serviceDir, osls('utils/resolve-stage')({ configuration, options: cliOptions }));
  }
  await resolveVariables(null);
  throwUnknownSources(variablesMeta, file);

  // What `serverless.init()` and `serverless.run()` do to the configuration before any plugin runs.
  await serverless.service.load(cliOptions);
  serverless.service.mergeArrays();
  serverless.service.setFunctionNames(cliOptions);
  const service = serverless.service;
  return {
    service: String(service.service),
    provider: service.provider ?? {},
    functions: service.functions ?? {},
    resources: service.resources ?? {},
  };
}

type Env = Record<string, string | undefined>;

/** osls's own `env` source, reading the given environment instead of process.env. */
function envSource(env: () => Env): Source {
  const source: Source = osls('configuration/variables/sources/env');
  // The source reads process.env synchronously: swapping it for the call is safe.
  return { resolve: (input) => withProcessEnv(env(), () => source.resolve(input)) };
}

/**
 * osls's own `.env` loader (`.env.<stage>`, else `.env`, in the service folder) run on a copy of
 * `env`: the variables feed `${env:...}` as with `serverless package`, not the functions.
 */
function withDotenv(env: Env, serviceDir: string, stage: string): Env {
  const loaded = { ...env };
  const cwd = process.cwd();
  // The loader reads the folder it runs in (the CLI runs in the service folder) and writes process.env.
  process.chdir(serviceDir);
  try {
    withProcessEnv(loaded, () => osls('cli/load-dotenv')(stage));
  } finally {
    process.chdir(cwd);
  }
  return loaded;
}

function withProcessEnv<T>(env: Env, call: () => T): T {
  if (env === process.env) return call();
  const saved = process.env;
  process.env = env;
  try {
    return call();
  } finally {
    process.env = saved;
  }
}

/** Stands in for a source that needs AWS: one line naming it and how to give a local value. */
function awsSource(type: string, what: string, ServerlessError: new (message: string, code: string) => Error): Source {
  return {
    resolve({ address }) {
      const variable = `\${${type}:${String(address ?? '')}}`;
      throw new ServerlessError(
        `${variable} reads ${what}, which npm run dev does not call. Give it a local value first: ` +
          `\${param:NAME, ${type}:${String(address ?? '')}} with npm run dev -- --param="NAME=value", ` +
          `or \${env:NAME, ${type}:...} with NAME set in the environment`,
        'LOCAL_AWS_SOURCE',
      );
    },
  };
}

function throwResolutionErrors(variablesMeta: VariablesMeta, file: string): void {
  const messages = [...variablesMeta.values()].flatMap(({ error, value }) =>
    // osls names the property; the text written there shows which variable it was.
    error ? [`${withoutStack(error.message)}${typeof value === 'string' ? `, in ${JSON.stringify(value)}` : ''}`] : [],
  );
  if (messages.length === 0) return;
  throw new ServiceConfigError(`${shownPath(file)}: ${[...new Set(messages)].join('\n  ')}`);
}

/** Variables left unresolved without an error use a source osls does not know (`${foo:bar}`). */
function throwUnknownSources(variablesMeta: VariablesMeta, file: string): void {
  if (variablesMeta.size === 0) return;
  const unresolved: Map<string, Set<string>> = osls('configuration/variables/resolve-unresolved-source-types')(
    variablesMeta,
  );
  const humanize: (keys: string[]) => string = osls('configuration/variables/humanize-property-path-keys');
  const lines = [...unresolved].map(
    ([type, paths]) =>
      `unknown variable source "${type}" at ${[...paths].map((path) => `"${humanize(path.split('\0'))}"`).join(', ')}`,
  );
  const where = shownPath(file);
  if (lines.length === 0) {
    const paths = [...variablesMeta.keys()].map((path) => `"${humanize(path.split('\0'))}"`);
    throw new ServiceConfigError(`${where}: variables left unresolved at ${paths.join(', ')}`);
  }
  throw new ServiceConfigError(`${where}: ${lines.join('\n  ')}`);
}

/** The file as the user would name it: relative to where `npm run dev` runs. */
export function shownPath(file: string): string {
  const near = relative(process.cwd(), file);
  return near.startsWith('..') ? file : near;
}

/** osls puts the stack of an error thrown by a `${file(x.js)}` into its message; the user needs the message. */
function withoutStack(message: string): string {
  return message
    .split('\n')
    .filter((line) => !/^\s+at .+/.test(line))
    .join('\n');
}

function isServerlessError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'ServerlessError';
}
