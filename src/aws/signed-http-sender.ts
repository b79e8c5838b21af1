import { Agent, request, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
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
  /** Keep-alive sockets to the endpoint; match the fan-out concurrency. */
  maxSockets?: number;
  /** Attempts for throttling (429), 5xx and network errors, as the SDK's standard retry mode. */
  maxAttempts?: number;
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);

/**
 * PostToConnection without the SDK's command pipeline: the SDK's own SigV4 signer and credential
 * chain, a keep-alive socket pool, one request per message. The pipeline (middleware stack,
 * serde, endpoint rules) costs ~10× the CPU of the request itself, and fan-out makes one call per
 * recipient. Errors match the SDK client's: GoneException → ConnectionGoneError, others keep
 * AWS's error name and status; throttling and 5xx are retried like the SDK's standard mode.
 */
export function createSignedHttpSender(options: SignedHttpSenderOptions): Sender {
  const endpoint = new URL(options.endpoint);
  const secure = endpoint.protocol === 'https:';
  const basePath = endpoint.pathname.replace(/\/$/, '');
  const agent = secure
    ? new HttpsAgent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 })
    : new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
  const send = secure ? httpsRequest : request;
  const maxAttempts = options.maxAttempts ?? 3;
  const signer = new SignatureV4({
    service: 'execute-api',
    region: options.region,
    credentials: options.credentials ?? defaultProvider(),
    sha256: Hash.bind(null, 'sha256'),
  });

  const post = async (connectionId: string, body: Buffer): Promise<{ status: number; type?: string; text: string }> => {
    const signed = await signer.sign({
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      port: endpoint.port ? Number(endpoint.port) : undefined,
      path: `${basePath}/@connections/${encodeConnectionId(connectionId)}`,
      query: {},
      headers: { host: endpoint.host, 'content-type': 'application/octet-stream', 'content-length': String(body.length) },
      body,
    });
    return new Promise((resolve, reject) => {
      const outgoing = send({
        agent,
        method: 'POST',
        protocol: endpoint.protocol,
        hostname: endpoint.hostname,
        port: endpoint.port || undefined,
        path: signed.path,
        headers: signed.headers,
      }, (response: IncomingMessage) => {
        const status = response.statusCode ?? 0;
        if (status === 200) {
          response.resume();
          return response.once('end', () => resolve({ status, text: '' }));
        }
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.once('end', () => resolve({ status, type: errorType(response.headers['x-amzn-errortype']), text }));
      });
      outgoing.once('error', reject);
      outgoing.end(body);
    });
  };

  return {
    async send(connectionId, payload) {
      const body = Buffer.from(payload);
      for (let attempt = 1; ; attempt++) {
        let outcome: { status: number; type?: string; text: string } | undefined;
        let networkError: unknown;
        try {
          outcome = await post(connectionId, body);
        } catch (error) {
          networkError = error;
        }
        if (outcome?.status === 200) return;
        const retryable = networkError !== undefined || RETRYABLE_STATUS.has(outcome!.status);
        if (retryable && attempt < maxAttempts) {
          await backoff(attempt);
          continue;
        }
        if (networkError !== undefined) throw networkError;
        const { status, type, text } = outcome!;
        if (type === 'GoneException') {
          throw new ConnectionGoneError(connectionId, { cause: new ManagementApiError(type, status, text) });
        }
        throw new ManagementApiError(type ?? (status >= 500 ? 'InternalServerError' : 'UnknownError'), status, messageOf(text, status));
      }
    },
  };
}

/** As the SDK encodes path labels: encodeURIComponent plus the characters it leaves alone. */
export function encodeConnectionId(connectionId: string): string {
  return encodeURIComponent(connectionId).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** As the SDK reads it: `Type:uri` or `ns#Type` → Type. */
function errorType(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
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

/** Full jitter, 100 ms base, as the SDK's standard retry strategy. */
function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(20_000, 100 * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
