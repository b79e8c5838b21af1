import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseCloudFormationYaml } from './cloudformation-yaml.js';
import { resolveIntrinsics, type LocalStack } from './cloudformation-intrinsics.js';
import { getPath, resolveVariables, VariableError } from './serverless-variables.js';

/** One function of the service, as the emulator runs it. */
export interface FunctionDefinition {
  name: string;
  /** `path/to/module.exportName`, relative to the service directory. */
  handler: string;
  timeoutSeconds: number;
  environment: Record<string, string>;
}

/** One WebSocket route and the function behind it. */
export interface RouteDefinition {
  routeKey: string;
  functionName: string;
  /** `$default` when the handler's returned body goes back to the caller. */
  routeResponseSelectionExpression?: string;
}

/** A DynamoDB table declared in the service's resources. */
export interface TableDeclaration {
  logicalId: string;
  properties: Record<string, unknown>;
}

/** What the emulator needs from serverless.yml, with variables and references resolved. */
export interface ServiceDefinition {
  service: string;
  serviceDir: string;
  stage: string;
  region: string;
  routeSelectionExpression: string;
  routes: RouteDefinition[];
  functions: Record<string, FunctionDefinition>;
  tables: TableDeclaration[];
}

export interface LoadOptions {
  stage?: string;
  region?: string;
  env?: Record<string, string | undefined>;
  /** The emulated API id that `!Ref WebsocketsApi` / `!Ref HttpApi` resolve to. */
  apiId?: string;
}

/** Serverless' defaults when serverless.yml is silent. */
const DEFAULT_TIMEOUT_SECONDS = 6;
const DEFAULT_ROUTE_SELECTION = '$request.body.action';

/** Reads serverless.yml: the single source of routes, handlers, environment and tables. */
export function loadServiceDefinition(configPath: string, options: LoadOptions = {}): ServiceDefinition {
  const file = resolve(configPath);
  const serviceDir = dirname(file);
  const raw = parseCloudFormationYaml(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const config = resolveVariables(raw, {
    serviceDir,
    options: { stage: options.stage, region: options.region },
    env: options.env ?? process.env,
  });

  const provider = (config.provider ?? {}) as Record<string, unknown>;
  const service = String(config.service ?? 'service');
  const stage = String(options.stage ?? provider.stage ?? 'dev');
  const region = String(options.region ?? provider.region ?? 'us-east-1');
  const resources = (getPath(config, 'resources.Resources') ?? {}) as LocalStack['resources'];
  const stack: LocalStack = {
    region,
    stackName: `${service}-${stage}`,
    accountId: '000000000000',
    resources,
    // Resources the Serverless Framework generates from websocket / httpApi events.
    emulated: { WebsocketsApi: options.apiId ?? 'local', HttpApi: options.apiId ?? 'local' },
  };

  const functions: Record<string, FunctionDefinition> = {};
  const routes: RouteDefinition[] = [];
  const rawFunctions = (config.functions ?? {}) as Record<string, Record<string, unknown>>;
  for (const [name, fn] of Object.entries(rawFunctions)) {
    if (typeof fn.handler !== 'string') throw new VariableError(`functions.${name}.handler must be a string`);
    functions[name] = {
      name,
      handler: fn.handler,
      timeoutSeconds: Number(fn.timeout ?? provider.timeout ?? DEFAULT_TIMEOUT_SECONDS),
      environment: stringValues(
        resolveIntrinsics({ ...asRecord(provider.environment), ...asRecord(fn.environment) }, stack,
          `functions.${name}.environment`),
      ),
    };
    for (const event of (fn.events ?? []) as Record<string, unknown>[]) {
      const websocket = event.websocket;
      if (websocket === undefined) continue;
      const route = typeof websocket === 'string' ? { route: websocket } : asRecord(websocket);
      routes.push({
        routeKey: String(route.route),
        functionName: name,
        routeResponseSelectionExpression: route.routeResponseSelectionExpression as string | undefined,
      });
    }
  }

  const tables = Object.entries(resources)
    .filter(([, resource]) => resource.Type === 'AWS::DynamoDB::Table')
    .map(([logicalId, resource]) => ({ logicalId, properties: resource.Properties ?? {} }));

  return {
    service,
    serviceDir,
    stage,
    region,
    routeSelectionExpression: String(provider.websocketsApiRouteSelectionExpression ?? DEFAULT_ROUTE_SELECTION),
    routes,
    functions,
    tables,
  };
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function stringValues(value: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(asRecord(value)).map(([key, item]) => [key, String(item)]));
}
