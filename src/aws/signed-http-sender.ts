import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { ConnectionGoneError, type Sender } from '../core/index.js';
import {
  AwsHttpError,
  backoff,
  createSignedHttp,
  errorMessage,
  NOT_SENT_ERRORS,
  type SignedResponse,
  sha256Hex,
  THROTTLE_BACKOFF_MS,
  TRANSIENT_BACKOFF_MS,
} from './signed-http.js';
import { uriEscape } from './sigv4.js';

export interface SignedHttpSenderOptions {
  /** e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/prod */
  endpoint: string;
  region: string;
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Keep-alive connections to the endpoint; match the fan-out concurrency. */
  maxSockets?: number;
  /** Attempts for throttling (429) and requests that never left. */
  maxAttempts?: number;
  signer?: 'hand-written' | 'aws4' | 'smithy';
}

/**
 * PostToConnection as one signed HTTP request (see signed-http.ts for why not the SDK client).
 * Errors match the SDK client's: GoneException → ConnectionGoneError, others keep AWS's error
 * name and status. Retries are narrower than the SDK's: only what API Gateway cannot have
 * delivered (throttling, requests that never left). A 5xx or a socket dropped mid-request may
 * have been delivered already; retrying it could hand the client the same frame twice.
 */
export function createSignedHttpSender(options: SignedHttpSenderOptions): Sender {
  const http = createSignedHttp({
    endpoint: options.endpoint,
    service: 'execute-api',
    region: options.region,
    credentials: options.credentials,
    connections: options.maxSockets ?? 64,
    signer: options.signer,
  });
  const maxAttempts = options.maxAttempts ?? 3;

  // A broadcast sends one payload to every recipient: encode and hash it once, not per request.
  let last: { payload: string; body: Buffer; sha256: string } | undefined;
  const prepare = (payload: string) => {
    if (last?.payload !== payload) {
      const body = Buffer.from(payload);
      last = { payload, body, sha256: sha256Hex(body) };
    }
    return last;
  };

  return {
    async send(connectionId, payload) {
      const { body, sha256 } = prepare(payload);
      const request = {
        path: `/@connections/${encodeConnectionId(connectionId)}`,
        headers: { 'content-type': 'application/octet-stream' },
        body,
        bodySha256: sha256,
      };
      for (let attempt = 1; ; attempt++) {
        let outcome: SignedResponse | undefined;
        let networkError: unknown;
        try {
          outcome = await http.post(request);
        } catch (error) {
          networkError = error;
        }
        if (outcome?.status === 200) return;
        const notSent =
          networkError !== undefined && NOT_SENT_ERRORS.has((networkError as { code?: string }).code ?? '');
        const throttled = outcome?.status === 429;
        if ((notSent || throttled) && attempt < maxAttempts) {
          await backoff(attempt, throttled ? THROTTLE_BACKOFF_MS : TRANSIENT_BACKOFF_MS);
          continue;
        }
        if (networkError !== undefined) throw networkError;
        const { status, errorType, text } = outcome!;
        // 410 means gone whether or not the error type header made it through.
        if (status === 410 || errorType === 'GoneException') {
          throw new ConnectionGoneError(connectionId, {
            cause: new AwsHttpError(errorType ?? 'GoneException', status, text),
          });
        }
        throw new AwsHttpError(
          errorType ?? (status >= 500 ? 'InternalServerError' : 'UnknownError'),
          status,
          errorMessage(text, status),
        );
      }
    },
  };
}

/** As the SDK encodes the ConnectionId path label. */
export const encodeConnectionId = uriEscape;
