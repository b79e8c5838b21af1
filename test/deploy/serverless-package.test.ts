import { statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_CAPABILITIES } from '../../src/core/capabilities.js';
import { parseNamespaces } from '../../src/core/channels.js';
import { type Identity, identityContext } from '../../src/core/identity.js';
import { createDevTokenSigner } from '../../src/local/dev-tokens.js';
import { readOslsConfiguration } from '../../src/local/osls-configuration.js';
import { loadServiceDefinition } from '../../src/local/serverless-config.js';
import { httpApiPost, httpApiRequest } from '../fixtures/http-api-event.js';
import { websocketEvent } from '../fixtures/websocket-event.js';
import { startTestServer } from '../helpers/dev-server.js';
import { connectClient } from '../helpers/ws-client.js';
import { grantedCalls, loadBundledHandler, logStatements } from './bundle-harness.js';
import { ROOT, runServerlessPackage, temporaryFolders, unzip } from './package-artifact.js';
import { startRecordingProxy } from './recording-proxy.js';
import { devView, packagedView } from './resolution-parity.js';

/**
 * Zipped size budgets (docs/deploy.md "Bundles"): the WebSocket handlers stay small for cold starts.
 * connect/disconnect carry only the store; message adds the sender (undici) and the Management API client.
 */
const ZIP_BUDGET_BYTES: Record<string, number> = {
  authorize: 100 * 1024,
  connect: 600 * 1024,
  // disconnect sends leave events: it carries the sender, as message does.
  disconnect: 900 * 1024,
  message: 900 * 1024,
  http: 1.75 * 1024 * 1024,
};

const STAGE = 'ci';
const REGION = 'eu-west-1';
/** A deployable stage needs a publish token and a way in (tools/deploy-guard.cjs). */
const JWT_SECRET = 'a-deploy-test-secret-long-enough-for-hs256';
const PUBLISH_TOKEN = 'deploy-test-publish-token';
const PARAMS = [`publishToken=${PUBLISH_TOKEN}`, `jwtSecret=${JWT_SECRET}`];
/** The developer's own JWT settings must not leak into either side. */
const NO_JWT_ENV = { JWT_SECRET: '', JWT_JWKS_URL: '' };
const service = await loadServiceDefinition(join(ROOT, 'serverless.yml'), {
  stage: STAGE,
  region: REGION,
  params: PARAMS,
  env: {},
});

let template: any;
let output: string;
let leftInTempDir: string[];
const folders = temporaryFolders();

beforeAll(() => {
  ({ template, output, leftInTempDir } = runServerlessPackage({
    stage: STAGE,
    region: REGION,
    args: PARAMS.map((param) => `--param=${param}`),
    env: NO_JWT_ENV,
  }));
}, 120_000);
afterAll(() => folders.removeAll());

describe('serverless.yml resolves the same for npm run dev as for serverless package', () => {
  it('function names, timeouts, memory, environment and tables', () => {
    expect(packagedView(template, service)).toEqual(devView(service));
  });

  it('provider values: log retention, runtime, architecture', async () => {
    const { provider } = await readOslsConfiguration(join(ROOT, 'serverless.yml'), {
      stage: STAGE,
      region: REGION,
      params: PARAMS,
      env: {},
    });
    const logGroups = Object.values(template.Resources as Record<string, any>).filter(
      (r) => r.Type === 'AWS::Logs::LogGroup',
    );
    expect(logGroups.map((r) => r.Properties.RetentionInDays)).toEqual(
      logGroups.map(() => provider.logRetentionInDays),
    );
    for (const name of Object.keys(service.functions)) {
      const fn = template.Resources[`${name[0]!.toUpperCase()}${name.slice(1)}LambdaFunction`].Properties;
      expect([fn.Runtime, fn.Architectures]).toEqual([provider.runtime, [provider.architecture]]);
    }
  });
});

describe('serverless package (osls, offline): the CloudFormation template', () => {
  const resources = () => Object.entries(template.Resources) as [string, any][];
  const ofType = (type: string) => resources().filter(([, r]) => r.Type === type);
  const functionResource = (name: string) =>
    ofType('AWS::Lambda::Function').find(([, r]) => r.Properties.FunctionName === `edge-relay-${STAGE}-${name}`)![1];

  it('leaves nothing in the OS temp dir (serverless-esbuild staging folders included)', () => {
    expect(leftInTempDir).toEqual([]);
  });

  it("reports each bundle's size", () => {
    // serverless-esbuild's line, printed with --verbose.
    for (const name of Object.keys(service.functions))
      expect(output).toMatch(new RegExp(`Function zipped: ${name} - [\\d.]+ (KB|MB)`));
  });

  it('declares the WebSocket API, its selection expression, every route with integration and permission', () => {
    const [, api] = ofType('AWS::ApiGatewayV2::Api').find(([, r]) => r.Properties.ProtocolType === 'WEBSOCKET')!;
    expect(api.Properties.RouteSelectionExpression).toBe(service.routeSelectionExpression);

    const routes = ofType('AWS::ApiGatewayV2::Route')
      .map(([, r]) => r.Properties)
      .filter((p) => p.ApiId.Ref === 'WebsocketsApi');
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(service.routes.map((r) => r.routeKey).sort());
    for (const route of service.routes) {
      const declared = routes.find((r) => r.RouteKey === route.routeKey)!;
      const integrationId = JSON.stringify(declared.Target).match(/"Ref":"(\w+)"/)![1]!;
      const integration = template.Resources[integrationId].Properties;
      const functionLogicalId = JSON.stringify(integration.IntegrationUri).match(/"(\w+)LambdaFunction"/)![1];
      expect(functionLogicalId!.toLowerCase()).toBe(route.functionName);
      const permission = ofType('AWS::Lambda::Permission').find(
        ([id]) => id === `${functionLogicalId}LambdaPermissionWebsockets`,
      );
      expect(permission?.[1].Properties.Principal).toBe('apigateway.amazonaws.com');
    }
  });

  it('every function: a current runtime on arm64, its own role, its bundle, and a log group with retention', () => {
    for (const name of Object.keys(service.functions)) {
      const fn = functionResource(name).Properties;
      expect(Number(/^nodejs(\d+)\.x$/.exec(fn.Runtime)![1])).toBeGreaterThanOrEqual(22);
      expect(fn.Architectures).toEqual(['arm64']);
      expect(fn.Role['Fn::GetAtt'][1]).toBe('Arn');
      expect(fn.Code.S3Key).toMatch(new RegExp(`/${name}\\.zip$`));
      const [, logGroup] = ofType('AWS::Logs::LogGroup').find(
        ([, r]) => r.Properties.LogGroupName === `/aws/lambda/edge-relay-${STAGE}-${name}`,
      )!;
      expect(logGroup.Properties.RetentionInDays).toBe(7);
    }
  });

  it('$connect runs the authorize function as its REQUEST authorizer, on an identity source every request has', () => {
    const [, route] = ofType('AWS::ApiGatewayV2::Route').find(([, r]) => r.Properties.RouteKey === '$connect')!;
    expect(route.Properties.AuthorizationType).toBe('CUSTOM');
    const authorizer = template.Resources[route.Properties.AuthorizerId.Ref].Properties;
    expect(authorizer.AuthorizerType).toBe('REQUEST');
    expect(authorizer.IdentitySource).toEqual(['route.request.header.Host']);
    expect(JSON.stringify(authorizer.AuthorizerUri)).toContain('AuthorizeLambdaFunction');
    const [, permission] = ofType('AWS::Lambda::Permission').find(
      ([id]) => id === 'AuthorizeLambdaPermissionWebsockets',
    )!;
    expect(permission.Properties.Principal).toBe('apigateway.amazonaws.com');
    // No other route is behind it: API Gateway runs authorizers on $connect only.
    expect(ofType('AWS::ApiGatewayV2::Route').filter(([, r]) => r.Properties.AuthorizerId)).toHaveLength(1);
  });

  it('the authorizer gets the JWT settings; anonymous connections are off on a deployed stage', () => {
    const env = functionResource('authorize').Properties.Environment.Variables;
    expect(env).toMatchObject({ JWT_SECRET, JWT_JWKS_URL: '', ALLOW_ANONYMOUS: 'false' });
    for (const name of ['connect', 'message', 'http']) {
      expect(functionResource(name).Properties.Environment.Variables.JWT_SECRET).toBeUndefined();
    }
    expect(functionResource('http').Properties.Environment.Variables.PUBLISH_TOKEN).toBe(PUBLISH_TOKEN);
  });

  it('every relay function gets custom.namespaces as NAMESPACES JSON the relay reads, and MAX_SUBSCRIPTIONS', () => {
    for (const name of ['connect', 'disconnect', 'message', 'http']) {
      const env = functionResource(name).Properties.Environment.Variables;
      expect(parseNamespaces(env.NAMESPACES)).toEqual({
        chat: { presence: true, joinLeave: true, historySize: 100, historyTtlSeconds: 86400, clientPublish: true },
      });
      expect(env.MAX_SUBSCRIPTIONS).toBe('100');
    }
  });

  it('the HTTP function is behind the HTTP API and knows the WebSocket and Management URLs', () => {
    const env = functionResource('http').Properties.Environment.Variables;
    expect(JSON.stringify(env.WEBSOCKET_URL)).toMatch(/wss:\/\/.*WebsocketsApi.*execute-api/);
    expect(JSON.stringify(env.MANAGEMENT_API_URL)).toMatch(/https:\/\/.*WebsocketsApi.*execute-api/);
    const routes = ofType('AWS::ApiGatewayV2::Route')
      .map(([, r]) => r.Properties)
      .filter((p) => p.ApiId.Ref === 'HttpApi');
    expect(routes.map((r) => r.RouteKey)).toEqual(['$default']);
  });

  it('the table matches its declaration in infra/: keys, index, TTL, on-demand, point-in-time recovery', () => {
    const declared = service.tables.find((t) => t.logicalId === 'ConnectionsTable')!.properties as any;
    const table = template.Resources.ConnectionsTable.Properties;
    expect(table.TableName).toBe(`edge-relay-${STAGE}-connections`);
    expect(table.KeySchema).toEqual(declared.KeySchema);
    expect(table.AttributeDefinitions).toEqual(declared.AttributeDefinitions);
    expect(table.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(table.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
  });

  it('outputs the WebSocket URL, the Management API endpoint and the HTTP URL', () => {
    for (const name of ['WebSocketUrl', 'ManagementApiUrl', 'HttpUrl'])
      expect(template.Outputs[name]?.Value).toBeDefined();
    expect(JSON.stringify(template.Outputs.WebSocketUrl.Value)).toContain(
      `wss://\${WebsocketsApi}.execute-api.\${AWS::Region}.\${AWS::URLSuffix}/${STAGE}`,
    );
  });

  it('no IAM statement anywhere has a "*" resource, and every resource is scoped to this stack', () => {
    const statements = ofType('AWS::IAM::Role').flatMap(([, role]) =>
      (role.Properties.Policies ?? []).flatMap((policy: any) => policy.PolicyDocument.Statement),
    );
    expect(statements.length).toBeGreaterThan(0);
    expect(ofType('AWS::IAM::ManagedPolicy')).toEqual([]);
    for (const statement of statements) {
      for (const resource of [statement.Resource].flat()) {
        expect(resource).not.toBe('*');
        const text = JSON.stringify(resource);
        expect(text).toMatch(
          /ConnectionsTable|WebsocketsApi\}\/ci\/(POST|DELETE)\/@connections\/\*|log-group:\/aws\/lambda\/edge-relay-ci-\w+:\*/,
        );
      }
    }
  });

  it('each zip holds the handler module, its source map and exports, within the size budget', async () => {
    for (const [name, definition] of Object.entries(service.functions)) {
      const zipPath = join(ROOT, '.serverless', `${name}.zip`);
      const dir = folders.make(`bundle-${name}`);
      const entries = await unzip(zipPath, dir);
      const [modulePath, exportName] = [
        definition.handler.slice(0, definition.handler.lastIndexOf('.')),
        definition.handler.split('.').pop()!,
      ];

      expect(entries).toContain(`${modulePath}.mjs`);
      expect(entries).toContain(`${modulePath}.mjs.map`);
      expect(entries.some((entry) => entry.startsWith('node_modules/'))).toBe(false);
      const { size } = statSync(zipPath);
      expect(size).toBeLessThan(ZIP_BUDGET_BYTES[name]!);
      // Importing is enough for the WebSocket handlers; the HTTP one needs its settings first.
      if (name !== 'http') {
        const module = await import(pathToFileURL(join(dir, `${modulePath}.mjs`)).href);
        expect(typeof module[exportName]).toBe('function');
      } else {
        // The page and the client library bundle it loads (npm run build:client copies it into public/).
        expect(entries).toEqual(
          expect.arrayContaining([
            'public/index.html',
            'public/chat.js',
            'public/chat.css',
            'public/edge-relay-client.js',
          ]),
        );
      }
    }
  });
});

describe('the packaged bundles, invoked from their zips against dynalite and the local @connections', () => {
  const handlers: Record<string, (event: unknown, context?: unknown) => Promise<any>> = {};
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let dynamoProxy: Awaited<ReturnType<typeof startRecordingProxy>>;
  let managementProxy: Awaited<ReturnType<typeof startRecordingProxy>>;
  const observed: Record<string, Set<string>> = {};

  /** Runs `call` and files the AWS calls it made under `functionName`. */
  async function recordFor<T>(functionName: string, call: () => Promise<T>): Promise<T> {
    const before = [dynamoProxy.calls.length, managementProxy.calls.length] as const;
    const result = await call();
    const calls = [...dynamoProxy.calls.slice(before[0]), ...managementProxy.calls.slice(before[1])];
    observed[functionName] ??= new Set();
    for (const { action, resource } of calls) observed[functionName]!.add(`${action} ${resource}`);
    return result;
  }

  // An hour ago: old enough that a GoneException prunes the connection.
  const connectedAt = Date.now() - 3_600_000;
  const eventFor = (
    connectionId: string,
    routeKey: string,
    eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT',
    { body, authorizer }: { body?: string; authorizer?: Record<string, unknown> } = {},
  ) => {
    const base = websocketEvent();
    return websocketEvent({
      requestContext: {
        ...base.requestContext,
        connectionId,
        routeKey,
        eventType,
        connectedAt,
        apiId: 'local',
        stage: 'local',
        domainName: '127.0.0.1',
        authorizer,
      },
      body,
    });
  };

  beforeAll(async () => {
    server = await startTestServer({ http: false });
    dynamoProxy = await startRecordingProxy(server.dynamodbEndpoint);
    managementProxy = await startRecordingProxy(server.managementUrl);
    // What the deployed functions would read, with AWS's endpoints swapped for the local stand-ins.
    Object.assign(process.env, {
      CONNECTIONS_TABLE: server.service.functions.connect!.environment.CONNECTIONS_TABLE,
      // The namespaces as deployed: chat keeps history, presence and join/leave.
      NAMESPACES: server.service.functions.message!.environment.NAMESPACES,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: dynamoProxy.url,
      AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI: managementProxy.url,
      MANAGEMENT_API_URL: managementProxy.url,
      WEBSOCKET_URL: 'wss://example.execute-api.eu-west-1.amazonaws.com/ci',
      JWT_SECRET,
      ALLOW_ANONYMOUS: 'false',
    });
    for (const [name, definition] of Object.entries(service.functions))
      handlers[name] = await loadBundledHandler(name, definition.handler, folders.make(`lambda-${name}`));
  }, 60_000);
  afterAll(async () => {
    await dynamoProxy?.close();
    await managementProxy?.close();
    await server?.close();
  });

  it('authorize admits a good token and refuses a bad one, from its zip, calling no AWS API', async () => {
    const event = (token?: string) => ({
      type: 'REQUEST',
      methodArn: 'arn:aws:execute-api:eu-west-1:000000000000:local/ci/$connect',
      headers: { Host: 'local' },
      queryStringParameters: token === undefined ? {} : { token },
      requestContext: { connectionId: 'authBundle00000=' },
    });
    const token = await createDevTokenSigner(JWT_SECRET).sign({ user: 'alice', info: { name: 'Alice' } });

    const allowed = await recordFor('authorize', () => handlers.authorize!(event(token)));
    // Exactly the context the connect and message bundles are given below.
    expect(allowed.principalId).toBe('alice');
    expect(allowed.context).toEqual(identityContext(ALICE));
    await expect(recordFor('authorize', () => handlers.authorize!(event(`${token}x`)))).rejects.toThrow(
      /^Unauthorized$/,
    );
    await expect(recordFor('authorize', () => handlers.authorize!(event()))).rejects.toThrow(/^Unauthorized$/);
  });

  it('connect, message, disconnect and http work end to end from the zips, every use case a role allows', async () => {
    // Two real sockets through the emulator; the bundles then act on their connection ids.
    const alice = await connectClient(server.wsUrl);
    const bob = await connectClient(server.wsUrl);
    alice.send({ action: 'sendmessage', data: 'who' });
    const aliceId = (await alice.next()).from;
    await bob.next();
    bob.send({ action: 'sendmessage', data: 'who' });
    const bobId = (await bob.next()).from;
    await alice.next();
    const asAlice = { authorizer: authorizerContext(ALICE) };
    const asBob = { authorizer: authorizerContext(BOB) };
    const message = (connectionId: string, frame: unknown, as: { authorizer: Record<string, unknown> }) =>
      recordFor('message', () =>
        handlers.message!(eventFor(connectionId, '$default', 'MESSAGE', { body: JSON.stringify(frame), ...as })),
      );
    const http = (method: 'POST' | 'DELETE' | 'GET', path: string, body?: unknown, idempotencyKey?: string) =>
      recordFor('http', () =>
        handlers.http!(
          authorized(
            body === undefined
              ? httpApiRequest(method, path)
              : httpApiPost(path, JSON.stringify({ data: body, ...(idempotencyKey && { idempotencyKey }) })),
          ),
          {},
        ),
      );
    const fromAlice = { from: aliceId, user: { id: 'alice', info: { name: 'Alice' } } };
    const fromServer = { from: null, user: null };

    // $connect as the authorizer left it: alice and bob as users (default + personal channel), and a
    // second connection of alice's whose socket then vanished (its $disconnect was lost).
    for (const [id, as] of [
      [aliceId, asAlice],
      [bobId, asBob],
      ['ghostBundle0000=', asAlice],
    ] as const) {
      const connected = await recordFor('connect', () => handlers.connect!(eventFor(id, '$connect', 'CONNECT', as)));
      expect(connected).toEqual({ statusCode: 200 });
    }

    // subscribe: both join chat:lobby (UpdateItem on the record, PutItem the membership).
    await message(aliceId, { action: 'subscribe', channel: 'chat:lobby', id: '1' }, asAlice);
    const subscribed = await alice.next();
    expect(subscribed).toEqual({
      type: 'subscribed',
      id: '1',
      channel: 'chat:lobby',
      position: { offset: 0, epoch: expect.any(String) },
    });
    await message(bobId, { action: 'subscribe', channel: 'chat:lobby', id: 'b1' }, asBob);
    expect(await bob.next()).toEqual({
      type: 'subscribed',
      id: 'b1',
      channel: 'chat:lobby',
      position: subscribed.position,
    });
    // chat has join/leave: alice, already a member, hears bob join (a Query on the channel, a POST).
    const bobAsMember = { connectionId: bobId, userId: 'bob', info: null };
    expect(await alice.next()).toEqual({ type: 'join', channel: 'chat:lobby', member: bobAsMember });

    // publish with an idempotency key: claimed (PutItem), its offset (UpdateItem on the channel's
    // stream), kept in history (PutItem), the key settled (UpdateItem), acknowledged with the message
    // id and offset, then the channel's members get it (a Query on its key).
    const publish = { action: 'publish', channel: 'chat:lobby', data: 'hello lobby', idempotencyKey: 'once' };
    await message(aliceId, { ...publish, id: '2' }, asAlice);
    const ack = await alice.next();
    expect(ack).toEqual({ type: 'ack', id: '2', channel: 'chat:lobby', messageId: expect.any(String), offset: 1 });
    const inLobby = {
      type: 'message',
      channel: 'chat:lobby',
      id: ack.messageId,
      data: 'hello lobby',
      ...fromAlice,
      offset: 1,
      epoch: subscribed.position.epoch,
    };
    expect(await alice.next()).toMatchObject(inLobby);
    expect(await bob.next()).toMatchObject(inLobby);
    // The same key again: the claim is refused and read (GetItem); the first one's ack, nothing delivered.
    await message(aliceId, { ...publish, id: '2b' }, asAlice);
    expect(await alice.next()).toEqual({ ...ack, id: '2b', duplicate: true });

    // history and presence: Queries of the kept publications and of the memberships.
    await message(aliceId, { action: 'history', channel: 'chat:lobby', id: 'h' }, asAlice);
    expect(await alice.next()).toEqual({
      type: 'history',
      id: 'h',
      channel: 'chat:lobby',
      position: { offset: 1, epoch: subscribed.position.epoch },
      publications: [expect.objectContaining(inLobby)],
      more: false,
    });
    await message(aliceId, { action: 'presence', channel: 'chat:lobby', id: 'who' }, asAlice);
    const presence = await alice.next();
    expect(presence.members.sort((a: any, b: any) => (a.userId < b.userId ? -1 : 1))).toEqual([
      { connectionId: aliceId, userId: 'alice', info: { name: 'Alice' } },
      bobAsMember,
    ]);

    // ping: a pong to the sender only.
    await message(aliceId, { action: 'ping', id: '3' }, asAlice);
    expect(await alice.next()).toEqual({ type: 'pong', id: '3' });

    // sendmessage: the default channel, today's contract; it prunes the ghost (GoneException).
    await message(aliceId, { action: 'sendmessage', data: 'from the zip' }, asAlice);
    const inDefault = { type: 'message', channel: 'default', data: 'from the zip', ...fromAlice };
    expect(await alice.next()).toMatchObject(inDefault);
    expect(await bob.next()).toMatchObject(inDefault);

    // Refusals: another user's personal channel, a bad frame; one error frame to the sender each.
    await message(aliceId, { action: 'subscribe', channel: 'user:bob', id: '4' }, asAlice);
    expect(await alice.next()).toMatchObject({ type: 'error', id: '4', code: 'forbidden' });
    await recordFor('message', () =>
      handlers.message!(eventFor(aliceId, '$default', 'MESSAGE', { body: 'nonsense', ...asAlice })),
    );
    expect(await alice.next()).toMatchObject({ type: 'error', code: 'invalid_json' });

    // unsubscribe: bob leaves chat:lobby (DeleteItem the membership, UpdateItem the record) ...
    await message(bobId, { action: 'unsubscribe', channel: 'chat:lobby', id: 'b2' }, asBob);
    expect(await bob.next()).toEqual({ type: 'unsubscribed', id: 'b2', channel: 'chat:lobby' });
    expect(await alice.next()).toEqual({ type: 'leave', channel: 'chat:lobby', member: bobAsMember });

    // ... so the server API's publish to chat:lobby reaches alice only.
    const toLobby = await http('POST', '/channels/chat:lobby/messages', 'lobby from http', 'http-once');
    expect([toLobby.statusCode, JSON.parse(toLobby.body)]).toEqual([
      202,
      { messageId: expect.any(String), offset: 2, delivered: 1, gone: 0, failed: 0 },
    ]);
    expect(await alice.next()).toMatchObject({
      channel: 'chat:lobby',
      offset: 2,
      data: 'lobby from http',
      ...fromServer,
    });
    expect(await bob.settle(200)).toEqual([]);
    // Its key again: the first one's id and offset (the refused claim read with GetItem), nothing delivered.
    const repeated = await http('POST', '/channels/chat:lobby/messages', 'lobby from http', 'http-once');
    expect(JSON.parse(repeated.body)).toEqual({ ...JSON.parse(toLobby.body), delivered: 0, duplicate: true });

    // GET history and presence: Queries, as the WebSocket actions'.
    const history = JSON.parse((await http('GET', '/channels/chat:lobby/history')).body);
    expect(history.publications.map((publication: { offset: number }) => publication.offset)).toEqual([1, 2]);
    const members = JSON.parse((await http('GET', '/channels/chat:lobby/presence')).body).members;
    expect(members).toEqual([{ connectionId: aliceId, userId: 'alice', info: { name: 'Alice' } }]);

    // A user's personal channel, while one of the user's connections is gone: the HTTP function prunes it too.
    await recordFor('connect', () => handlers.connect!(eventFor('ghostHttp000000=', '$connect', 'CONNECT', asAlice)));
    const toAlice = await http('POST', '/users/alice/messages', 'to alice');
    expect(JSON.parse(toAlice.body)).toEqual({
      messageId: expect.any(String),
      offset: expect.any(Number),
      delivered: 1,
      gone: 1,
      failed: 0,
    });
    expect(await alice.next()).toMatchObject({ channel: 'user:alice', data: 'to alice', ...fromServer });

    // bob comes back to chat:lobby from where he left (offset 1): recovered, offset 2 replayed (a Query
    // of the kept publications), and alice hears him join again.
    const since = { offset: 1, epoch: subscribed.position.epoch };
    await message(bobId, { action: 'subscribe', channel: 'chat:lobby', id: 'b4', since }, asBob);
    expect(await bob.next()).toEqual({
      type: 'subscribed',
      id: 'b4',
      channel: 'chat:lobby',
      position: { offset: 2, epoch: since.epoch },
      recovered: true,
    });
    expect(await bob.next()).toMatchObject({ channel: 'chat:lobby', offset: 2, data: 'lobby from http' });
    expect(await alice.next()).toEqual({ type: 'join', channel: 'chat:lobby', member: bobAsMember });

    // $disconnect removes bob's items (DeleteItem the record, returning its channels; BatchWriteItem
    // the memberships) and tells chat:lobby he left (a Query, a POST to alice). A subscribe from his
    // still open socket then finds no record: the message function closes the connection
    // (DeleteConnection) so its client reconnects.
    await recordFor('disconnect', () => handlers.disconnect!(eventFor(bobId, '$disconnect', 'DISCONNECT', asBob)));
    expect(await alice.next()).toEqual({ type: 'leave', channel: 'chat:lobby', member: bobAsMember });
    await message(bobId, { action: 'subscribe', channel: 'chat:lobby', id: 'b3' }, asBob);
    expect(await bob.closed).toMatchObject({ code: 1000 });

    // POST /messages keeps working: the default channel, now alice only.
    const published = await http('POST', '/messages', 'from http');
    expect([published.statusCode, JSON.parse(published.body)]).toEqual([
      202,
      { messageId: expect.any(String), offset: expect.any(Number), delivered: 1, gone: 0, failed: 0 },
    ]);
    expect(await alice.next()).toMatchObject({ channel: 'default', data: 'from http', ...fromServer });

    // DELETE /connections/{id} closes alice's socket; a second one finds it gone.
    expect((await http('DELETE', `/connections/${encodeURIComponent(aliceId)}`)).statusCode).toBe(204);
    expect(await alice.closed).toMatchObject({ code: 1000 });
    expect((await http('DELETE', `/connections/${encodeURIComponent(aliceId)}`)).statusCode).toBe(404);

    // The page and its configuration are served from the HTTP bundle.
    const page = await handlers.http!(httpApiRequest('GET', '/'), {});
    expect(page.body).toContain('<title>Edge Relay chat</title>');
    const config = await handlers.http!(httpApiRequest('GET', '/config.json'), {});
    expect(JSON.parse(config.body)).toEqual({ websocketUrl: 'wss://example.execute-api.eu-west-1.amazonaws.com/ci' });
  });

  it('each role grants exactly the AWS calls its function made: nothing missing, nothing unused', () => {
    const names = Object.keys(service.functions);
    // Every role at once, so one failure shows each role's difference.
    const granted = Object.fromEntries(names.map((name) => [name, grantedCalls(template, name, STAGE)]));
    const made = Object.fromEntries(names.map((name) => [name, [...(observed[name] ?? [])].sort()]));
    expect(granted).toEqual(made);
    // Every function was invoked; the authorizer made no call: its role has its log statement only.
    expect(Object.keys(observed).sort()).toEqual([...names].sort());
    expect(made.authorize).toEqual([]);
  });

  it('each role writes logs to its own log group only', () => {
    for (const name of Object.keys(service.functions)) {
      const [statement, ...others] = logStatements(template, name, STAGE);
      expect(others).toEqual([]);
      expect(statement.Action).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
      expect(JSON.stringify(statement.Resource)).toContain(`log-group:/aws/lambda/edge-relay-${STAGE}-${name}:*`);
    }
  });
});

/** Users as the authorizer admits them from tokens without a `channels` claim (DEFAULT_CAPABILITIES). */
const ALICE: Identity = { userId: 'alice', info: { name: 'Alice' }, capabilities: ALL_CAPABILITIES };
const BOB: Identity = { userId: 'bob', info: null, capabilities: ALL_CAPABILITIES };

/** `requestContext.authorizer` of a user's events: the authorizer's context, and the principalId API Gateway adds. */
function authorizerContext(identity: Identity): Record<string, unknown> {
  return { ...identityContext(identity), principalId: identity.userId };
}

/** The server API now needs the stage's publish token. */
function authorized<T extends { headers?: Record<string, string | undefined> }>(event: T): T {
  return { ...event, headers: { ...event.headers, authorization: `Bearer ${PUBLISH_TOKEN}` } };
}
