import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { FastifyInstance } from 'fastify';
import { createRelayFactory } from '../aws/clients.js';
import { loadConfig } from '../aws/config.js';
import { buildHttpApi } from '../aws/http-api.js';
import { createDeclaredTables, startEmbeddedDynamo, type EmbeddedDynamo } from './dynamodb.js';
import { loadFunction, type LocalFunction } from './lambda-runtime.js';
import { AWS_LIMITS, type EmulatorLimits } from './limits.js';
import { loadServiceDefinition, type ServiceDefinition } from './serverless-config.js';
import { createWebSocketApi, type WebSocketApi } from './websocket-api.js';

export interface DevServerOptions {
  configPath: string;
  host?: string;
  /** 0 picks a free port (tests). */
  httpPort: number;
  wsPort: number;
  stage?: string;
  /** Persist the embedded DynamoDB to this folder instead of memory. */
  dynamodbPath?: string;
  limits?: Partial<EmulatorLimits>;
  /** Serve the HTTP API and chat page; off for fixture services that have none. */
  http?: boolean;
  env?: NodeJS.ProcessEnv;
  log?: (message: string) => void;
}

export interface DevServer {
  httpUrl?: string;
  wsUrl: string;
  managementUrl: string;
  dynamodbEndpoint: string;
  service: ServiceDefinition;
  webSocketApi: WebSocketApi;
  close(): Promise<void>;
}

/** A port already taken; the message names the port and the setting that changes it. */
export class PortInUseError extends Error {
  constructor(port: number, setting: string) {
    super(`port ${port} is already in use: stop what uses it or choose another with ${setting}`);
    this.name = 'PortInUseError';
  }
}

/** The emulated API Gateway id; `!Ref WebsocketsApi` resolves to it. */
const LOCAL_API_ID = 'local';

/**
 * Starts everything `npm run dev` serves: embedded DynamoDB with the declared tables, the
 * WebSocket API emulator running the service's own handlers, and the HTTP API with the page.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const env = options.env ?? process.env;
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? ((message: string) => console.log(message));
  const limits = { ...AWS_LIMITS, ...options.limits };
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
  };

  try {
    const service = loadServiceDefinition(options.configPath, {
      stage: options.stage ?? 'local',
      env,
      apiId: LOCAL_API_ID,
    });

    const dynamodbEndpoint = env.DYNAMODB_ENDPOINT || env.AWS_ENDPOINT_URL_DYNAMODB || await startDynamo(options.dynamodbPath, closers);
    // Handlers read their settings from the environment, as on Lambda. They share this
    // process, so every function sees the union of the functions' environments.
    Object.assign(env, {
      AWS_REGION: env.AWS_REGION ?? service.region,
      AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID ?? 'local',
      AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY ?? 'local',
      AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint,
    });
    for (const fn of Object.values(service.functions)) Object.assign(env, fn.environment);

    const dynamo = new DynamoDBClient({ region: service.region, endpoint: dynamodbEndpoint });
    await createDeclaredTables(dynamo, service.tables);
    dynamo.destroy();

    const routedFunctions = new Set(service.routes.map((route) => route.functionName));
    const functions = new Map<string, LocalFunction>();
    for (const name of routedFunctions) {
      functions.set(name, await loadFunction(service.functions[name]!, service.serviceDir, service.region));
    }

    const webSocketApi = createWebSocketApi({
      api: { apiId: LOCAL_API_ID, stage: service.stage },
      routeSelectionExpression: service.routeSelectionExpression,
      routes: service.routes,
      functions,
      limits,
      log,
    });
    const wsPort = await listen(webSocketApi.app, host, options.wsPort, 'WS_PORT or --ws-port');
    closers.push(() => webSocketApi.app.close());
    const managementUrl = `http://${host}:${wsPort}`;
    // The handlers' Management API client goes to the emulator (config.ts reads this).
    env.AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI = managementUrl;
    const wsUrl = `ws://${host}:${wsPort}`;

    let httpUrl: string | undefined;
    if (options.http !== false) {
      const config = loadConfig(env);
      const relay = createRelayFactory(config)(managementUrl);
      const httpApi = buildHttpApi({ relay, websocketUrl: wsUrl });
      const httpPort = await listen(httpApi, host, options.httpPort, 'HTTP_PORT or --http-port');
      closers.push(() => httpApi.close());
      httpUrl = `http://${host}:${httpPort}`;
    }

    return { httpUrl, wsUrl, managementUrl, dynamodbEndpoint, service, webSocketApi, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function startDynamo(path: string | undefined, closers: (() => Promise<void>)[]): Promise<string> {
  const dynamo: EmbeddedDynamo = await startEmbeddedDynamo({ path });
  closers.push(() => dynamo.close());
  return dynamo.endpoint;
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
