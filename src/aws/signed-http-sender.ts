import { createHash } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { Pool, type Dispatcher } from 'undici';
import { ConnectionGoneError, type Sender } from '../core/index.js';

/** An error from the Management API, shaped like the SDK's: `name` is AWS's error type. */
export class ManagementApiError extends Error {
  readonly $metadata: { httpStatusCode: number };
  constructor(name: string, statusCode: number, message: string) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode: statusCode };
  }
}

export interface SignedHttpSenderOptions {
  /** e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/prod */
  endpoint: string;
  region: string;
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Keep-alive connections to the endpoint; match the fan-out concurrency. */
  maxSockets?: number;
  /** Attempts for throttling (429), 5xx and network errors, as the SDK's standard retry mode. */
  maxAttempts?: number;
}

/**
 * Retried only where API Gateway cannot have delivered the message: a throttled request (429),
 * or a connection that never got the request out. A 5xx or a socket dropped mid-request may have
 * been delivered already; retrying it could hand the client the same frame twice.
 */
const NOT_SENT_ERRORS = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EAI_AGAIN']);
/** The SDK's backoff bases: longer after throttling. */
const THROTTLE_BACKOFF_MS = 500;
const NETWORK_BACKOFF_MS = 100;

/**
 * PostToConnection without the SDK's command pipeline: the SDK's own SigV4 signer and credential
 * chain, a keep-alive socket pool, one request per message. The pipeline (middleware stack,
 * serde, endpoint rules) costs several times the CPU of the request itself, and fan-out makes one
 * call per recipient. Errors match the SDK client's: GoneException → ConnectionGoneError, others
 * keep AWS's error name and status. Retries are narrower than the SDK's: only what cannot have
 * been delivered (throttling, requests that never left), so a recipient never gets a frame twice.
 */
export function createSignedHttpSender(options: SignedHttpSenderOptions): Sender {
  const endpoint = new URL(options.endpoint);
  const basePath = endpoint.pathname.replace(/\/$/, '');
  // undici's pool costs a third of node:http's CPU per request; TLS comes with https: origins.
  const pool = new Pool(endpoint.origin, {
    connections: options.maxSockets ?? 64,
    pipelining: 1,
    // One hung socket must not hold a fan-out slot until the Lambda times out.
    connectTimeout: 3_000,
    headersTimeout: 5_000,
    bodyTimeout: 5_000,
  });
  const maxAttempts = options.maxAttempts ?? 3;
  const signer = new SignatureV4({
    service: 'execute-api',
    region: options.region,
    credentials: options.credentials ?? defaultProvider(),
    sha256: Hash.bind(null, 'sha256'),
    // Only S3 wants x-amz-content-sha256; the payload hash is still part of the signature.
    applyChecksum: false,
  });

  // A broadcast sends one payload to every recipient: encode and hash it once, not per request.
  let last: { payload: string; body: Buffer; sha256: string } | undefined;
  const prepare = (payload: string) => {
    if (last?.payload !== payload) {
      const body = Buffer.from(payload);
      last = { payload, body, sha256: createHash('sha256').update(body).digest('hex') };
    }
    return last;
  };

  const post = async (connectionId: string, { body, sha256 }: { body: Buffer; sha256: string }): Promise<Outcome> => {
    const path = `${basePath}/@connections/${encodeConnectionId(connectionId)}`;
    const signed = await signer.sign({
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      port: endpoint.port ? Number(endpoint.port) : undefined,
      path,
      query: {},
      // The signer takes a precomputed payload hash from this header (and signs it).
      headers: { host: endpoint.host, 'content-type': 'application/octet-stream', 'x-amz-content-sha256': sha256 },
      body,
    });
    const { host: _host, ...headers } = signed.headers;
    return exchange(pool, { method: 'POST', path, headers, body });
  };

  return {
    async send(connectionId, payload) {
      const prepared = prepare(payload);
      for (let attempt = 1; ; attempt++) {
        let outcome: Outcome | undefined;
        let networkError: unknown;
        try {
          outcome = await post(connectionId, prepared);
        } catch (error) {
          networkError = error;
        }
        if (outcome?.status === 200) return;
        const notSent = networkError !== undefined && NOT_SENT_ERRORS.has((networkError as { code?: string }).code ?? '');
        const throttled = outcome?.status === 429;
        if ((notSent || throttled) && attempt < maxAttempts) {
          await backoff(attempt, throttled ? THROTTLE_BACKOFF_MS : NETWORK_BACKOFF_MS);
          continue;
        }
        if (networkError !== undefined) throw networkError;
        const { status, type, text } = outcome!;
        // 410 means gone whether or not the error type header made it through.
        if (status === 410 || type === 'GoneException') {
          throw new ConnectionGoneError(connectionId, { cause: new ManagementApiError(type ?? 'GoneException', status, text) });
        }
        throw new ManagementApiError(type ?? (status >= 500 ? 'InternalServerError' : 'UnknownError'), status, messageOf(text, status));
      }
    },
  };
}

interface Outcome {
  status: number;
  /** AWS's error type, from x-amzn-errortype. */
  type?: string;
  text: string;
}

/**
 * One request on the pool through undici's handler interface rather than `request()`: no body
 * stream, no promise per chunk; a broadcast makes one of these per recipient. The body of a 200
 * is dropped unread, an error's is kept for its message.
 */
function exchange(pool: Pool, options: Dispatcher.DispatchOptions): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let type: string | undefined;
    const chunks: Buffer[] = [];
    pool.dispatch(options, {
      onConnect() {},
      onError: reject,
      onHeaders(statusCode, rawHeaders) {
        status = statusCode;
        for (let i = 0; i < rawHeaders.length; i += 2) {
          if (rawHeaders[i]!.toString().toLowerCase() === 'x-amzn-errortype') type = errorType(rawHeaders[i + 1]!.toString());
        }
        return true;
      },
      onData(chunk) {
        if (status !== 200) chunks.push(chunk);
        return true;
      },
      onComplete() {
        resolve({ status, type, text: Buffer.concat(chunks).toString() });
      },
    });
  });
}

/** As the SDK encodes path labels: encodeURIComponent plus the characters it leaves alone. */
export function encodeConnectionId(connectionId: string): string {
  return encodeURIComponent(connectionId).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** As the SDK reads it: `Type:uri` or `ns#Type` → Type. */
function errorType(value: string): string | undefined {
  if (!value) return undefined;
  return value.split(',')[0]!.split(':')[0]!.split('#').pop();
}

function messageOf(text: string, status: number): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown; Message?: unknown };
    const message = parsed.message ?? parsed.Message;
    if (typeof message === 'string') return message;
  } catch {
    // not JSON
  }
  return `Management API answered ${status}`;
}

/** Full jitter, exponential from `baseMs`, as the SDK's standard retry strategy. */
function backoff(attempt: number, baseMs: number): Promise<void> {
  const ceiling = Math.min(20_000, baseMs * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
