import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { DynamoApi } from './dynamodb-api.js';
import { dnsSuffix } from './partitions.js';
import {
  AwsHttpError,
  awsErrorType,
  backoff,
  createSignedHttp,
  errorMessage,
  type SignedResponse,
  THROTTLE_BACKOFF_MS,
  TRANSIENT_BACKOFF_MS,
} from './signed-http.js';

export interface DynamoHttpApiOptions {
  region: string;
  /** Another DynamoDB (dynalite, DynamoDB Local); by default the region's public endpoint. */
  endpoint?: string;
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Keep-alive sockets to DynamoDB. */
  connections?: number;
  /** Attempts in all, as the SDK's default. */
  maxAttempts?: number;
}

/** The SDK's throttling error codes (@smithy/service-error-classification) that DynamoDB uses. */
const THROTTLING_ERRORS = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'LimitExceededException',
]);
const TRANSIENT_ERRORS = new Set([
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalServerError',
  'ServiceUnavailable',
]);
const TRANSIENT_STATUSES = new Set([500, 502, 503, 504]);

/**
 * The store's DynamoDB operations as signed JSON POSTs (the awsJson1_0 protocol the SDK speaks),
 * without the SDK's command pipeline: a $connect's BatchWriteItem costs ~1 ms of CPU through the
 * SDK client and a tenth of that here. Every operation the store makes is idempotent (puts,
 * deletes, reads), so throttling, 5xx and network errors are retried like the SDK's standard
 * mode does: up to `maxAttempts` in all, with full-jitter exponential backoff. Binary (B, BS)
 * values would need base64 on the wire; the store writes none.
 */
export function createDynamoHttpApi(options: DynamoHttpApiOptions): DynamoApi {
  const http = createSignedHttp({
    endpoint: options.endpoint ?? defaultDynamoEndpoint(options.region),
    service: 'dynamodb',
    region: options.region,
    credentials: options.credentials,
    connections: options.connections ?? 16,
  });
  const maxAttempts = options.maxAttempts ?? 3;

  const call = async <Output>(operation: string, input: object): Promise<Output> => {
    const request = {
      path: '/',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `DynamoDB_20120810.${operation}` },
      body: Buffer.from(JSON.stringify(input)),
    };
    for (let attempt = 1; ; attempt++) {
      let response: SignedResponse;
      try {
        response = await http.post(request);
      } catch (error) {
        // The network's fault (reset, timeout, refused): safe to send again, as every operation
        // here is idempotent. Anything without an error code is a bug, not worth a retry.
        if (typeof (error as { code?: unknown }).code !== 'string' || attempt >= maxAttempts) throw error;
        await backoff(attempt, TRANSIENT_BACKOFF_MS);
        continue;
      }
      if (response.status === 200) return JSON.parse(response.text) as Output;
      const error = toAwsError(response);
      const throttled = response.status === 429 || THROTTLING_ERRORS.has(error.name);
      const transient = TRANSIENT_STATUSES.has(response.status) || TRANSIENT_ERRORS.has(error.name);
      if (!(throttled || transient) || attempt >= maxAttempts) throw error;
      await backoff(attempt, throttled ? THROTTLE_BACKOFF_MS : TRANSIENT_BACKOFF_MS);
    }
  };

  return {
    batchWriteItem: (input) => call('BatchWriteItem', input),
    getItem: (input) => call('GetItem', input),
    query: (input) => call('Query', input),
  };
}

/** DynamoDB's public endpoint in the region's partition. */
export function defaultDynamoEndpoint(region: string): string {
  return `https://dynamodb.${region}.${dnsSuffix(region)}`;
}

/**
 * Where awsJson1_0 puts the error's name, in the order the SDK's DynamoDB client reads it: the
 * body's `__type`, then its `code` (any case), then the x-amzn-errortype header.
 */
function toAwsError({ status, errorType: headerType, text }: SignedResponse): AwsHttpError {
  let bodyType: string | undefined;
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const codeKey = Object.keys(body).find((key) => key.toLowerCase() === 'code');
    const named = body.__type ?? (codeKey ? body[codeKey] : undefined);
    if (typeof named === 'string') bodyType = awsErrorType(named);
  } catch {
    // not JSON: the header or the status names it
  }
  const type = bodyType ?? headerType;
  return new AwsHttpError(
    type ?? (status >= 500 ? 'InternalServerError' : 'UnknownError'),
    status,
    errorMessage(text, status),
  );
}
