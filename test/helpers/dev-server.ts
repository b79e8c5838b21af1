import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { SignJWT, UnsecuredJWT } from 'jose';
import { type DevServer, type DevServerOptions, startDevServer } from '../../src/local/dev-server.js';
import { connectClient, type TestClient } from './ws-client.js';

/** The project's own serverless.yml. */
export const PROJECT_CONFIG = resolve(import.meta.dirname, '../../serverless.yml');

/** Starts the dev server on free ports with an in-memory DynamoDB, quietly. */
export function startTestServer(overrides: Partial<DevServerOptions> = {}): Promise<DevServer> {
  const messages: string[] = [];
  return startDevServer({
    configPath: PROJECT_CONFIG,
    httpPort: 0,
    wsPort: 0,
    log: (message) => messages.push(message),
    ...overrides,
  });
}

/** The HS256 secret the channel tests start the dev server with (JWT_SECRET) and sign their tokens with. */
export const TEST_JWT_SECRET = 'edge-relay-e2e-secret-at-least-32-bytes-long';

/**
 * The dev server (stage `local`, so anonymous connections are allowed) accepting tokens signed
 * with TEST_JWT_SECRET; `env` adds settings such as MAX_SUBSCRIPTIONS.
 */
export function startChannelServer(env: Record<string, string> = {}, params: string[] = []): Promise<DevServer> {
  return startTestServer({ env: { ...process.env, JWT_SECRET: TEST_JWT_SECRET, ...env }, params });
}

export interface TokenClaims {
  sub?: string;
  info?: Record<string, unknown>;
  channels?: Record<string, string[]>;
}

export interface TokenOptions {
  secret?: string;
  /** jose's time span (`'1h'`) or an epoch-seconds `exp`; a past one makes an expired token. */
  expiresIn?: string | number;
}

/** An HS256 JWT as an application's backend would issue it. */
export function mintToken(claims: TokenClaims, options: TokenOptions = {}): Promise<string> {
  const { sub, ...rest } = claims;
  const jwt = new SignJWT(rest).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt();
  if (sub !== undefined) jwt.setSubject(sub);
  return jwt
    .setExpirationTime(options.expiresIn ?? '1h')
    .sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}

/** A token with `alg: none` and no signature, which a verifier must never accept. */
export function unsignedToken(claims: TokenClaims): string {
  const { sub, ...rest } = claims;
  const jwt = new UnsecuredJWT(rest).setIssuedAt().setExpirationTime('1h');
  if (sub !== undefined) jwt.setSubject(sub);
  return jwt.encode();
}

/** The WebSocket URL with `?token=` as browsers pass it (they cannot set headers). */
export function withToken(wsUrl: string, token: string): string {
  const url = new URL(wsUrl);
  url.searchParams.set('token', token);
  return url.href;
}

/** One call to the dev server's HTTP API (the server API): status and parsed JSON body (undefined when none). */
export async function callServerApi(
  server: DevServer,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${server.httpUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let parsed: unknown = text || undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // keep the raw text: it says what went wrong
  }
  return { status: response.status, body: parsed };
}

/** A name no other test in the run uses (channels, users): tests sharing a server do not see each other. */
export function unique(prefix: string): string {
  return `${prefix}${randomUUID().slice(0, 8)}`;
}

/** The server's connections table, read through the SDK as a test would read it on AWS. */
export interface TableReader {
  /** Connection ids with a membership item in `channel` (`CHAN#<channel>`). */
  members(channel: string): Promise<string[]>;
  /** The channels on the connection record (`CONN#<id>/META`), or undefined when there is no record. */
  channelsOf(connectionId: string): Promise<string[] | undefined>;
  destroy(): void;
}

/** Reads the dev server's embedded DynamoDB: the table layout of issue 11 (CONN#/META and CHAN#/CONN#). */
export function tableReader(server: DevServer): TableReader {
  const client = new DynamoDBClient({
    region: server.service.region,
    endpoint: server.dynamodbEndpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const tableName = server.service.functions.connect!.environment.CONNECTIONS_TABLE!;
  return {
    async members(channel) {
      const { Items } = await client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :channel',
          ExpressionAttributeValues: { ':channel': { S: `CHAN#${channel}` } },
        }),
      );
      return (Items ?? []).map((item) => item.connectionId!.S!);
    },
    async channelsOf(connectionId) {
      const { Item } = await client.send(
        new GetItemCommand({ TableName: tableName, Key: { pk: { S: `CONN#${connectionId}` }, sk: { S: 'META' } } }),
      );
      if (!Item) return undefined;
      return [...(Item.channels?.SS ?? [])].sort();
    },
    destroy: () => client.destroy(),
  };
}

/** A test client and the connection id API Gateway gave it (what `from` and `DELETE /connections/{id}` use). */
export interface ServerClient extends TestClient {
  connectionId: string;
}

/**
 * Connects to `server` (with `?token=` when given) and learns the connection id from the
 * emulator's own table of sockets. Connect one at a time: the new id is the one that appeared.
 */
export async function connectTo(server: DevServer, token?: string): Promise<ServerClient> {
  const before = new Set(server.webSocketApi.connections.keys());
  const client = await connectClient(token === undefined ? server.wsUrl : withToken(server.wsUrl, token));
  const added = [...server.webSocketApi.connections.keys()].filter((id) => !before.has(id));
  if (added.length !== 1) {
    await client.close();
    throw new Error(`expected one new connection, found ${added.length}: connect one client at a time`);
  }
  return Object.assign(client, { connectionId: added[0]! });
}

/** Connects with a fresh token for `sub` (and its info / channels claims). */
export async function connectUser(server: DevServer, claims: TokenClaims): Promise<ServerClient> {
  return connectTo(server, await mintToken(claims));
}
