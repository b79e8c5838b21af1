import { dirname, resolve } from 'node:path';
import { type LocalStack, resolveIntrinsics } from './cloudformation-intrinsics.js';
import { LOCAL_ACCOUNT_ID } from './local-account.js';
import { type ResolvedService, readOslsConfiguration, shownPath } from './osls-configuration.js';
import { ServiceConfigError } from './service-config-error.js';

/** One function of the service, as the emulator runs it. */
export interface FunctionDefinition {
  /** The key under `functions:`. */
  name: string;
  /** The Lambda function name on AWS: `name:`, or Serverless' `service-stage-key`. */
  deployedName: string;
  /** `path/to/module.exportName`, relative to the service directory. */
  handler: string;
  timeoutSeconds: number;
  memorySize: number;
  environment: Record<string, string>;
  /** Has httpApi / http events: the dev server serves it as the HTTP API. */
  servesHttp: boolean;
}

/** A REQUEST Lambda authorizer on $connect. */
export interface AuthorizerDefinition {
  functionName: string;
  /** e.g. route.request.header.Auth, route.request.querystring.token; all are required. */
  identitySource: string[];
}

/** One WebSocket route and the function behind it. */
export interface RouteDefinition {
  routeKey: string;
  functionName: string;
  /** `$default` when the handler's returned body goes back to the caller. */
  routeResponseSelectionExpression?: string;
  authorizer?: AuthorizerDefinition;
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
  /** `--param="key=value"`, as `serverless package --param` takes them. */
  params?: string[];
  /** What `${env:...}` reads; process.env when absent. */
  env?: Record<string, string | undefined>;
  /** The emulated API id that `!Ref WebsocketsApi` / `!Ref HttpApi` resolve to. */
  apiId?: string;
}

/** Serverless' defaults when serverless.yml is silent. */
const DEFAULT_TIMEOUT_SECONDS = 6;
const DEFAULT_MEMORY_MB = 1024;
const DEFAULT_IDENTITY_SOURCE = ['route.request.header.Auth'];
const DEFAULT_ROUTE_SELECTION = '$request.body.action';

/**
 * Reads serverless.yml through osls, as `serverless package` does: the single source of routes,
 * handlers, environment and tables. Only CloudFormation intrinsics are resolved here.
 */
export async function loadServiceDefinition(configPath: string, options: LoadOptions = {}): Promise<ServiceDefinition> {
  const file = resolve(configPath);
  const config = await readOslsConfiguration(file, options);
  try {
    return defineService(config, dirname(file), options);
  } catch (error) {
    if (error instanceof ServiceConfigError)
      throw new ServiceConfigError(`${shownPath(file)}: ${error.message}`, { cause: error });
    throw error;
  }
}

/** What the emulator runs, from the resolved configuration. */
function defineService(config: ResolvedService, serviceDir: string, options: LoadOptions): ServiceDefinition {
  const provider = config.provider;
  const service = config.service;
  const stage = String(options.stage ?? provider.stage ?? 'dev');
  const region = String(options.region ?? provider.region ?? 'us-east-1');
  const resources = asRecord(config.resources.Resources) as LocalStack['resources'];
  const stack: LocalStack = {
    region,
    stackName: `${service}-${stage}`,
    accountId: LOCAL_ACCOUNT_ID,
    resources,
    // Resources the Serverless Framework generates from websocket / httpApi events.
    emulated: { WebsocketsApi: options.apiId ?? 'local', HttpApi: options.apiId ?? 'local' },
  };

  const functions: Record<string, FunctionDefinition> = {};
  const routes: RouteDefinition[] = [];
  for (const [name, fn] of Object.entries(config.functions)) {
    const handler = handlerOf(fn.handler, `functions.${name}.handler`);
    const events = (fn.events ?? []) as Record<string, unknown>[];
    functions[name] = {
      name,
      deployedName: String(fn.name),
      handler,
      timeoutSeconds: Number(fn.timeout ?? provider.timeout ?? DEFAULT_TIMEOUT_SECONDS),
      memorySize: Number(fn.memorySize ?? provider.memorySize ?? DEFAULT_MEMORY_MB),
      environment: stringValues(
        resolveIntrinsics(
          { ...asRecord(provider.environment), ...asRecord(fn.environment) },
          stack,
          `functions.${name}.environment`,
        ),
      ),
      servesHttp: events.some((event) => 'httpApi' in event || 'http' in event),
    };
    for (const event of events) {
      const websocket = event.websocket;
      if (websocket === undefined) continue;
      const route = typeof websocket === 'string' ? { route: websocket } : asRecord(websocket);
      const routeKey = String(route.route);
      routes.push({
        routeKey,
        functionName: name,
        routeResponseSelectionExpression: route.routeResponseSelectionExpression as string | undefined,
        ...(route.authorizer !== undefined && {
          authorizer: authorizerOf(route.authorizer, `functions.${name} route ${routeKey}`),
        }),
      });
    }
  }

  for (const route of routes) {
    const authorizer = route.authorizer?.functionName;
    if (authorizer !== undefined && !functions[authorizer]) {
      throw new ServiceConfigError(
        `route ${route.routeKey}: authorizer function "${authorizer}" is not declared in functions`,
      );
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

/** Lambda loads `path/to/module.exportName`: without the dot there is nothing to call. */
function handlerOf(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.lastIndexOf('.') <= 0 || value.endsWith('.')) {
    throw new ServiceConfigError(
      `${where}: ${JSON.stringify(value)} is not a handler; write it as path/to/module.exportName`,
    );
  }
  return value;
}

/** Serverless accepts `authorizer: fnName` or `{ name, identitySource }`; an `arn` runs elsewhere. */
function authorizerOf(value: unknown, where: string): AuthorizerDefinition {
  if (typeof value === 'string') return { functionName: value, identitySource: DEFAULT_IDENTITY_SOURCE };
  const spec = asRecord(value);
  if (spec.arn !== undefined)
    throw new ServiceConfigError(
      `${where}: authorizer by arn cannot run locally; declare it as a function of this service`,
    );
  if (typeof spec.name !== 'string') throw new ServiceConfigError(`${where}: authorizer needs a function name`);
  const sources = spec.identitySource ?? DEFAULT_IDENTITY_SOURCE;
  return { functionName: spec.name, identitySource: (Array.isArray(sources) ? sources : [sources]).map(String) };
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function stringValues(value: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(asRecord(value)).map(([key, item]) => [key, String(item)]));
}
