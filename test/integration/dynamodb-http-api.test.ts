import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoApi } from '../../src/aws/dynamodb-api.js';
import { createDynamoHttpApi, defaultDynamoEndpoint } from '../../src/aws/dynamodb-http-api.js';
import { sdkDynamoApi } from '../../src/aws/dynamodb-sdk-api.js';
import type { EmbeddedDynamo } from '../../src/local/dynamodb.js';
import { startTestDynamo } from '../helpers/dynamo.js';
import { type Answer, scriptedServer } from '../helpers/scripted-server.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

const awsJsonError =
  (status: number, type: string, message: string): Answer =>
  () => [
    status,
    { 'content-type': 'application/x-amz-json-1.0' },
    JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message }),
  ];

describe('the signed HTTP DynamoDB client speaks the protocol the SDK speaks', () => {
  // A DynamoDB endpoint for the faults dynalite cannot produce (throttling, 5xx, resets).
  const fake = scriptedServer([200, {}, '{}']);
  let endpoint: string;
  let sdkClient: DynamoDBClient;

  beforeAll(async () => {
    endpoint = await fake.start();
    sdkClient = new DynamoDBClient({ endpoint, region: 'eu-west-1', credentials, maxAttempts: 1 });
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    sdkClient.destroy();
    await fake.close();
  });

  const lean = (maxAttempts = 3) => createDynamoHttpApi({ endpoint, region: 'eu-west-1', credentials, maxAttempts });
  const query = {
    TableName: 'tbl',
    KeyConditionExpression: 'pk = :p',
    ExpressionAttributeValues: { ':p': { S: 'ROOM#a' } },
    ProjectionExpression: 'connectionId',
  };

  it('sends the same operation, content type and JSON body as the SDK, signed for dynamodb', async () => {
    await sdkDynamoApi(sdkClient).query(query);
    await lean().query(query);
    const [viaSdk, viaLean] = fake.seen;

    expect(viaLean!.headers['x-amz-target']).toBe('DynamoDB_20120810.Query');
    expect(viaLean!.headers['x-amz-target']).toBe(viaSdk!.headers['x-amz-target']);
    expect(viaLean!.headers['content-type']).toBe(viaSdk!.headers['content-type']);
    expect(JSON.parse(viaLean!.body.toString())).toEqual(JSON.parse(viaSdk!.body.toString()));
    expect(viaLean!.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/dynamodb\/aws4_request, SignedHeaders=[^,]*x-amz-target[^,]*, Signature=[0-9a-f]{64}$/,
    );
  });

  it('retries throttling, a 5xx and a dropped connection, then returns the answer', async () => {
    fake.script.push(awsJsonError(400, 'ProvisionedThroughputExceededException', 'slow down'));
    await expect(lean().getItem({ TableName: 'tbl', Key: {} })).resolves.toEqual({});
    fake.script.push(() => [503, {}, 'Service Unavailable']);
    await expect(lean().getItem({ TableName: 'tbl', Key: {} })).resolves.toEqual({});
    fake.script.push(() => 'drop');
    await expect(lean().getItem({ TableName: 'tbl', Key: {} })).resolves.toEqual({});
    expect(fake.seen).toHaveLength(6);
  });

  it('does not retry a client error, and names it as the SDK does', async () => {
    for (const api of [sdkDynamoApi(sdkClient), lean()]) {
      fake.script.push(awsJsonError(400, 'ValidationException', 'bad key'));
      const error = (await api.getItem({ TableName: 'tbl', Key: {} }).catch((e: unknown) => e)) as Error & {
        $metadata: { httpStatusCode: number };
      };
      expect(error.name).toBe('ValidationException');
      expect(error.message).toBe('bad key');
      expect(error.$metadata.httpStatusCode).toBe(400);
    }
    expect(fake.seen).toHaveLength(2);
  });

  it.each([
    [
      'the header, `code` and `__type` disagree',
      { 'x-amzn-ErrorType': 'HeaderType' },
      { __type: 'ns#TypeField', code: 'CodeField', message: 'm' },
    ],
    ['the body has `Code` and `__type`', {}, { __type: 'ns#TypeField', Code: 'CodeField', message: 'm' }],
    ['only `code` and the header', { 'x-amzn-ErrorType': 'HeaderType' }, { code: 'CodeField', message: 'm' }],
    ['only the header', { 'x-amzn-ErrorType': 'HeaderType:http://internal' }, { message: 'm' }],
  ])('names an error as the SDK does when %s', async (_case, headers, body) => {
    const names: string[] = [];
    for (const api of [sdkDynamoApi(sdkClient), lean(1)]) {
      fake.script.push(() => [400, { 'content-type': 'application/x-amz-json-1.0', ...headers }, JSON.stringify(body)]);
      names.push(((await api.getItem({ TableName: 'tbl', Key: {} }).catch((e: unknown) => e)) as Error).name);
    }
    expect(names[1]).toBe(names[0]);
  });

  it('gives up after maxAttempts with the last error', async () => {
    fake.script.push(...Array.from({ length: 2 }, () => awsJsonError(400, 'ThrottlingException', 'still busy')));
    const error = (await lean(2)
      .query(query)
      .catch((e: unknown) => e)) as Error;
    expect(error.name).toBe('ThrottlingException');
    expect(error.message).toBe('still busy');
    expect(fake.seen).toHaveLength(2);
  });

  it('names a non-JSON 5xx InternalServerError', async () => {
    fake.script.push(() => [500, {}, '<html>oops</html>']);
    const error = (await lean(1)
      .query(query)
      .catch((e: unknown) => e)) as Error & { $metadata: { httpStatusCode: number } };
    expect(error.name).toBe('InternalServerError');
    expect(error.$metadata.httpStatusCode).toBe(500);
  });

  it("defaults to the region's public endpoint", () => {
    expect(defaultDynamoEndpoint('eu-west-1')).toBe('https://dynamodb.eu-west-1.amazonaws.com');
    expect(defaultDynamoEndpoint('cn-north-1')).toBe('https://dynamodb.cn-north-1.amazonaws.com.cn');
    expect(defaultDynamoEndpoint('eusc-de-east-1')).toBe('https://dynamodb.eusc-de-east-1.amazonaws.eu');
  });
});

describe('the signed HTTP DynamoDB client against dynalite fails as the SDK client does', () => {
  let dynamo: EmbeddedDynamo;
  let sdkClient: DynamoDBClient;
  let tableName: string;
  let apis: DynamoApi[];

  beforeAll(async () => {
    ({ dynamo, client: sdkClient, tableName } = await startTestDynamo());
    apis = [
      sdkDynamoApi(sdkClient),
      createDynamoHttpApi({
        region: 'us-east-1',
        endpoint: dynamo.endpoint,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    ];
  });
  afterAll(async () => {
    sdkClient.destroy();
    await dynamo.close();
  });

  it.each([
    ['a missing table', () => ({ TableName: 'no-such-table', Key: { pk: { S: 'a' }, sk: { S: 'b' } } })],
    ['a key missing its sort key', () => ({ TableName: tableName, Key: { pk: { S: 'a' } } })],
  ])('%s: same error name, status and message', async (_case, input) => {
    const [viaSdk, viaLean] = (await Promise.all(
      apis.map((api) => api.getItem(input()).catch((e: unknown) => e)),
    )) as (Error & { $metadata: { httpStatusCode: number } })[];
    expect(viaLean!.name).toBe(viaSdk!.name);
    expect(viaLean!.name).toMatch(/Exception$/);
    expect(viaLean!.message).toBe(viaSdk!.message);
    expect(viaLean!.$metadata.httpStatusCode).toBe(viaSdk!.$metadata.httpStatusCode);
  });
});
