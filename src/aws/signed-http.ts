import { createHash } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import aws4 from 'aws4';
import { type Dispatcher, Pool } from 'undici';
import { RelayError } from '../core/index.js';

/**
 * SigV4-signed HTTP requests (POST, DELETE) to one AWS endpoint without the SDK's command pipeline: the SDK's
 * credential chain, aws4's synchronous signer, undici's keep-alive pool. The pipeline
 * (middleware stack, serde, endpoint rules, an asynchronous signer) costs ten times the CPU of
 * the request itself, and the fan-out pays it once per recipient.
 */
export interface SignedHttpOptions {
  /** Origin plus an optional base path, e.g. https://abc.execute-api.eu-west-1.amazonaws.com/prod */
  endpoint: string;
  /** The SigV4 service name, e.g. execute-api. */
  service: string;
  region: string;
  /** Static credentials (local endpoints); by default the SDK's provider chain (Lambda's role). */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Keep-alive sockets to the endpoint. */
  connections: number;
}

/** What came back: the status, AWS's error type when there was one, and the body as text. */
export interface SignedResponse {
  status: number;
  /** From x-amzn-errortype (`Type:uri` → Type). */
  errorType?: string;
  text: string;
}

export interface SignedRequest {
  /** Path below the endpoint's base path, already percent-encoded. */
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  /** Hex SHA-256 of `body` when the caller has it (one payload, many requests). */
  bodySha256?: string;
}

export interface SignedHttp {
  post(request: SignedRequest): Promise<SignedResponse>;
  /** A DELETE without a body (DeleteConnection). */
  delete(request: { path: string }): Promise<SignedResponse>;
}

/** Hex SHA-256 of the empty body, as the SDK signs a request without one. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** How long a Management API or DynamoDB request may take to connect and to answer; both senders use them. */
export const REQUEST_TIMEOUTS_MS = { connect: 3_000, response: 10_000 } as const;

export function createSignedHttp(options: SignedHttpOptions): SignedHttp {
  const endpoint = new URL(options.endpoint);
  const basePath = endpoint.pathname.replace(/\/$/, '');
  // undici's pool costs a third of node:http's CPU per request; TLS comes with https: origins.
  const pool = new Pool(endpoint.origin, {
    connections: options.connections,
    pipelining: 1,
    // One hung socket must not hold a caller until the Lambda times out.
    connectTimeout: REQUEST_TIMEOUTS_MS.connect,
    headersTimeout: REQUEST_TIMEOUTS_MS.response,
    bodyTimeout: REQUEST_TIMEOUTS_MS.response,
  });
  const { service, region } = options;
  const credentials = cachedCredentials(options.credentials ?? defaultProvider());

  const send = async (method: 'POST' | 'DELETE', path: string, headers: Record<string, string>, body?: Buffer) => {
    const fullPath = `${basePath}${path}`;
    const identity = credentials.current() ?? (await credentials.refresh());
    // The body is not handed to aws4: it would hash it again and add a content-length.
    const signed = aws4.sign({ service, region, method, host: endpoint.host, path: fullPath, headers }, identity);
    // undici sends the pool's own host header.
    const { Host: _host, ...signedHeaders } = signed.headers as Record<string, string>;
    return exchange(pool, { method, path: fullPath, headers: signedHeaders, body });
  };

  return {
    post: ({ path, headers, body, bodySha256 }) =>
      send('POST', path, { ...headers, 'x-amz-content-sha256': bodySha256 ?? sha256Hex(body) }, body),
    delete: ({ path }) => send('DELETE', path, { 'x-amz-content-sha256': EMPTY_SHA256 }),
  };
}

/** Temporary credentials are renewed this long before they expire, as the SDK's providers do. */
const CREDENTIALS_REFRESH_MS = 5 * 60_000;

/**
 * The resolved identity, held until it nears its expiry, so a request needs no await for it.
 * (The SDK's default provider memoizes too, but answers through a promise on every call.)
 */
function cachedCredentials(source: AwsCredentialIdentity | AwsCredentialIdentityProvider) {
  let identity: AwsCredentialIdentity | undefined = typeof source === 'function' ? undefined : source;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  return {
    current(): AwsCredentialIdentity | undefined {
      if (identity?.expiration && identity.expiration.getTime() - Date.now() < CREDENTIALS_REFRESH_MS) return undefined;
      return identity;
    },
    refresh(): Promise<AwsCredentialIdentity> {
      if (typeof source !== 'function') return Promise.resolve(source);
      pending ??= source().then(
        (resolved) => {
          pending = undefined;
          identity = resolved;
          return resolved;
        },
        (error: unknown) => {
          pending = undefined;
          throw error;
        },
      );
      return pending;
    },
  };
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * One request through undici's handler interface rather than `request()`: no body stream and no
 * promise per chunk. The body is kept whole: error answers need it, a PostToConnection's is empty.
 */
function exchange(pool: Pool, options: Dispatcher.DispatchOptions): Promise<SignedResponse> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let errorType: string | undefined;
    const chunks: Buffer[] = [];
    pool.dispatch(options, {
      onConnect() {},
      onError: reject,
      onHeaders(statusCode, rawHeaders) {
        status = statusCode;
        for (let i = 0; i < rawHeaders.length; i += 2) {
          if (rawHeaders[i]!.toString().toLowerCase() === 'x-amzn-errortype')
            errorType = awsErrorType(rawHeaders[i + 1]!.toString());
        }
        return true;
      },
      onData(chunk) {
        chunks.push(chunk);
        return true;
      },
      onComplete() {
        resolve({ status, errorType, text: chunks.length === 0 ? '' : Buffer.concat(chunks).toString() });
      },
    });
  });
}

/** As the SDK reads an error type: `Type:uri` or `namespace#Type` → Type. */
function awsErrorType(value: string | undefined): string | undefined {
  if (!value) return undefined;
  return value.split(',')[0]!.split(':')[0]!.split('#').pop() || undefined;
}

/**
 * An AWS error answer, shaped like the SDK's service exceptions: `name` is AWS's error type
 * (GoneException, LimitExceededException, ...), as code written for the SDK compares it.
 */
export class AwsHttpError extends RelayError {
  readonly $metadata: { httpStatusCode: number };
  constructor(type: string, statusCode: number, message: string) {
    super(message);
    this.name = type;
    this.$metadata = { httpStatusCode: statusCode };
  }
}

/** The `message` (or `Message`) of a JSON error body, else a line naming the status. */
export function errorMessage(text: string, status: number): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown; Message?: unknown };
    const message = parsed.message ?? parsed.Message;
    if (typeof message === 'string') return message;
  } catch {
    // not JSON
  }
  return `AWS answered ${status}`;
}
