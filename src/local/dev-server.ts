import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { FastifyInstance } from 'fastify';
import { createRelayFactory } from '../aws/clients.js';
import { loadConfig } from '../aws/config.js';
import { buildHttpApi } from '../aws/http-api.js';
import { DEV_DEFAULTS } from './dev-defaults.js';
import { devIdentity } from './dev-identity.js';
import type { DevTokenSigner } from './dev-tokens.js';
import {
  createDeclaredTables,
  type EmbeddedDynamo,
  type EmbeddedDynamoOptions,
  startEmbeddedDynamo,
} from './dynamodb.js';
import { PortInUseError } from './errors.js';
import { type LocalFunction, loadFunction } from './lambda-runtime.js';
import { AWS_LIMITS, type EmulatorLimits } from './limits.js';
import { createMemoryProbes, type MemoryReport } from './memory-probe.js';
import { type AwsCredentialsMode, LOCAL_CREDENTIALS, sandboxEnvironment } from './sandbox-env.js';
import { loadServiceDefinition, type ServiceDefinition } from './serverless-config.js';
import { createWebSocketApi, type WebSocketApi } from './websocket-api.js';

export interface DevServerOptions {
  configPath: string;
  host?: string;
  /** 0 picks a free port (tests). */
  httpPort: number;
  wsPort: number;
  stage?: string;
  /** `--param="key=value"`: serverless.yml's `${param:key}`, as `serverless deploy --param` takes them. */
  params?: string[];
  /** Persist the embedded DynamoDB to this folder instead of memory. */
  dynamodbPath?: string;
  limits?: Partial<EmulatorLimits>;
  /** Sandboxes per function (concurrent invocations beyond wait). */
  maxConcurrency?: number;
  /** Serve the HTTP API and chat page; off for fixture services that have none. */
  http?: boolean;
  /** The environment functions start from; never modified. */
  env?: Record<string, string | undefined>;
  /** `local` (default): sandboxes get fake credentials only; `inherit`: the developer's own pass through. */
  awsCredentials?: AwsCredentialsMode;
  /** Told every connection a sandbox opens (function, host:port); tests use it to prove nothing leaves. */
  onSandboxConnection?: (functionName: string, target: string) => void;
  log?: (message: string) => void;
}

export interface DevServer {
  httpUrl?: string;
  wsUrl: string;
  managementUrl: string;
  dynamodbEndpoint: string;
  service: ServiceDefinition;
  webSocketApi: WebSocketApi;
  /** The functions the routes use, each loaded (its first sandbox warm), in serverless.yml's order. */
  functions: LoadedFunction[];
  /** Signs tokens this server's authorizer accepts (POST /dev/token); absent for services without one. */
  devTokens?: DevTokenSigner;
  close(): Promise<void>;
  /** A full garbage collection here and in every thread (sandboxes, DynamoDB); what is still held. */
  collectGarbage(): Promise<MemoryReport>;
}

/** A function as `npm run dev` reports it at start. */
export interface LoadedFunction {
  name: string;
  /** The handler string from serverless.yml. */
  handler: string;
  /** From starting its first sandbox to its handler module loaded (functions load side by side). */
  loadMs: number;
}

export { PortInUseError } from './errors.js';
export type { MemoryReport } from './memory-probe.js';

/** The emulated API Gateway id; `!Ref WebsocketsApi` resolves to it. */
const LOCAL_API_ID = 'local';

/**
 * Starts everything `npm run dev` serves: embedded DynamoDB with the declared tables, the
 * WebSocket API emulator running the service's own handlers, and the HTTP API with the page.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const env = options.env ?? process.env;
  const host = options.host ?? DEV_DEFAULTS.host;
  const log = options.log ?? ((message: string) => console.log(message));
  const limits = { ...AWS_LIMITS, ...options.limits };
  const memory = createMemoryProbes();
  const closers: (() => Promise<void>)[] = [];
  let closing: Promise<void> | undefined;
  // Last started, first stopped: sockets (and their $disconnects) before functions and DynamoDB.
  // Every closer runs even when one fails, so no thread or socket outlives a failed stop.
  const close = () =>
    (closing ??= (async () => {
      const failures: unknown[] = [];
      for (const closer of [...closers].reverse()) await closer().catch((error: unknown) => failures.push(error));
      if (failures.length === 1) throw failures[0];
      if (failures.length > 1) throw new AggregateError(failures, 'the dev server did not stop cleanly');
    })());

  try {
    const declared = await loadServiceDefinition(options.configPath, {
      stage: options.stage ?? DEV_DEFAULTS.stage,
      params: options.params,
      env,
      apiId: LOCAL_API_ID,
    });
    const identity = devIdentity(declared.functions, env);
    const service = { ...declared, functions: identity.functions };

    const externalDynamo = env.DYNAMODB_ENDPOINT || env.AWS_ENDPOINT_URL_DYNAMODB;
    const embedded = externalDynamo ? undefined : await startDynamo({ path: options.dynamodbPath, memory }, closers);
    const dynamodbEndpoint = externalDynamo || embedded!.endpoint;
    const dynamo = new DynamoDBClient({
      region: service.region,
      endpoint: dynamodbEndpoint,
      credentials: LOCAL_CREDENTIALS,
    });
    await createDeclaredTables(dynamo, service.tables);
    dynamo.destroy();

    // Functions are loaded once the port is known: their Management API endpoint depends on it.
    const functions = new Map<string, LocalFunction>();
    closers.push(async () => {
      await Promise.all([...functions.values()].map((fn) => fn.close()));
    });
    const webSocketApi = createWebSocketApi({
      api: { apiId: LOCAL_API_ID, stage: service.stage, region: service.region },
      region: service.region,
      routeSelectionExpression: service.routeSelectionExpression,
      routes: service.routes,
      functions,
      limits,
      log,
    });
    const wsPort = await listen(webSocketApi.app, host, options.wsPort, 'WS_PORT or --ws-port');
    closers.push(() => webSocketApi.close());
    const managementUrl = `http://${hostForUrl(host)}:${wsPort}`;
    const wsUrl = `ws://${hostForUrl(host)}:${wsPort}`;

    // What a Lambda sandbox would get, pointed at the local stand-ins. Each function adds its own.
    const baseEnv = sandboxEnvironment(env, {
      region: service.region,
      credentials: options.awsCredentials ?? 'local',
      dynamodbEndpoint,
      managementUrl,
    });
    // Inside each sandbox, this API's Management API host and DynamoDB's reach the local services.
    const wsHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    const redirect = { apiId: LOCAL_API_ID, wsHost, wsPort, dynamodb: dynamodbEndpoint };
    const used = new Set(
      service.routes.flatMap((route) => [route.functionName, route.authorizer?.functionName ?? []].flat()),
    );
    // Settle every load before failing, so the closers stop the ones that did start.
    const loaded = new Map<string, LoadedFunction>();
    const loads = await Promise.allSettled(
      [...used].map(async (name) => {
        const startedAt = performance.now();
        functions.set(
          name,
          await loadFunction(service.functions[name]!, {
            serviceDir: service.serviceDir,
            region: service.region,
            baseEnv,
            maxConcurrency: options.maxConcurrency ?? DEV_DEFAULTS.maxConcurrency,
            memory,
            redirect,
            onConnection: options.onSandboxConnection,
          }),
        );
        const loadMs = Math.round(performance.now() - startedAt);
        loaded.set(name, { name, handler: service.functions[name]!.handler, loadMs });
      }),
    );
    const failed = loads.find((load): load is PromiseRejectedResult => load.status === 'rejected');
    if (failed) throw failed.reason;
    // The port has been open since the Management API endpoint was known; handshakes waited.
    webSocketApi.admitConnections();

    let httpUrl: string | undefined;
    const httpFunction = Object.values(service.functions).find((fn) => fn.servesHttp);
    // Only a service with an HTTP function (this project's) has an HTTP API and page to serve.
    if (options.http !== false && httpFunction) {
      // The HTTP API runs in this process, with the environment its function declares.
      const config = loadConfig({
        ...baseEnv,
        ...httpFunction.environment,
        AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI: managementUrl,
        // In this process the SDK reads AWS_ENDPOINT_URL_DYNAMODB from process.env, not from here.
        DYNAMODB_ENDPOINT: dynamodbEndpoint,
      });
      const relay = createRelayFactory(config, LOCAL_CREDENTIALS)(managementUrl);
      const { signer } = identity;
      const httpApi = buildHttpApi({
        relay,
        websocketUrl: wsUrl,
        connectionLimits: {
          idleTimeoutSeconds: limits.idleTimeoutSeconds,
          maxConnectionSeconds: limits.maxConnectionSeconds,
        },
        publishToken: config.publishToken,
        // POST /dev/token: only here, never in the Lambda entry point, and only for the generated dev secret.
        ...(signer &&
          identity.generatedSecret && {
            devTokens: (request: Parameters<DevTokenSigner['sign']>[0]) => signer.sign(request),
          }),
      });
      const httpPort = await listen(httpApi, host, options.httpPort, 'HTTP_PORT or --http-port');
      closers.push(() => httpApi.close());
      httpUrl = `http://${hostForUrl(host)}:${httpPort}`;
    }

    const collectGarbage = memory.report;
    return {
      httpUrl,
      wsUrl,
      managementUrl,
      dynamodbEndpoint,
      service,
      webSocketApi,
      functions: Object.keys(service.functions).flatMap((name) => loaded.get(name) ?? []),
      ...(identity.signer && { devTokens: identity.signer }),
      close,
      collectGarbage,
    };
  } catch (error) {
    // The start's own error is the one to report; a failure to clean up after it travels as its cause.
    await close().catch((closeError: unknown) => {
      if (error instanceof Error && error.cause === undefined) error.cause = closeError;
    });
    throw error;
  }
}

/** IPv6 literals need brackets in URLs. */
function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

async function startDynamo(options: EmbeddedDynamoOptions, closers: (() => Promise<void>)[]): Promise<EmbeddedDynamo> {
  const dynamo = await startEmbeddedDynamo(options);
  closers.push(() => dynamo.close());
  return dynamo;
}

async function listen(app: FastifyInstance, host: string, port: number, setting: string): Promise<number> {
  try {
    await app.listen({ host, port });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(port, setting);
    throw error;
  }
  return (app.server.address() as AddressInfo).port;
}
