import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { ConnectionGoneError, DEFAULT_FANOUT_CONCURRENCY, type Sender } from '../core/index.js';
import { closeConnectionWithRetries } from './close-retries.js';
import { deliveryRetries, isGoneAnswer } from './delivery-retries.js';
import { withRetries } from './retry.js';
import { AwsHttpError, createSignedHttp, errorMessage, sha256Hex } from './signed-http.js';

export interface SignedHttpSenderOptions {
  /** e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/prod */
  endpoint: string;
  region: string;
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Keep-alive connections to the endpoint; match the fan-out concurrency. */
  maxSockets?: number;
  /** Attempts for throttling (429) and requests that never left. */
  maxAttempts?: number;
}

/**
 * PostToConnection and DeleteConnection as one signed HTTP request each (see signed-http.ts for
 * why not the SDK client). Errors match the SDK client's: GoneException → ConnectionGoneError,
 * others keep AWS's error name and status. A send retries as deliveryRetries says (never after a
 * request that may have arrived); a close as closeRetries says (closing twice is harmless).
 */
export function createSignedHttpSender(options: SignedHttpSenderOptions): Sender {
  const http = createSignedHttp({
    endpoint: options.endpoint,
    service: 'execute-api',
    region: options.region,
    credentials: options.credentials,
    connections: options.maxSockets ?? DEFAULT_FANOUT_CONCURRENCY,
  });
  const retries = deliveryRetries(options.maxAttempts);

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
    send(connectionId, payload) {
      const { body, sha256 } = prepare(payload);
      const request = {
        path: `/@connections/${encodeConnectionId(connectionId)}`,
        headers: { 'content-type': 'application/octet-stream' },
        body,
        bodySha256: sha256,
      };
      return withRetries(async () => {
        const { status, errorType, text } = await http.post(request);
        if (status === 200) return;
        throw answerError(connectionId, status, errorType, text);
      }, retries);
    },

    close(connectionId) {
      const path = `/@connections/${encodeConnectionId(connectionId)}`;
      return closeConnectionWithRetries(async () => {
        const { status, errorType, text } = await http.delete({ path });
        // AWS answers 204; 200 is success too.
        if (status === 200 || status === 204) return;
        throw answerError(connectionId, status, errorType, text);
      }, options.maxAttempts);
    },
  };
}

/** The error for an answer that was not a success: ConnectionGoneError for a 410, else AWS's own. */
function answerError(connectionId: string, status: number, errorType: string | undefined, text: string): Error {
  if (isGoneAnswer(status, errorType)) {
    return new ConnectionGoneError(connectionId, {
      cause: new AwsHttpError(errorType ?? 'GoneException', status, text),
    });
  }
  return new AwsHttpError(
    errorType ?? (status >= 500 ? 'InternalServerError' : 'UnknownError'),
    status,
    errorMessage(text, status),
  );
}

/**
 * As the SDK encodes the ConnectionId path label: RFC 3986 unreserved characters stay,
 * everything else is percent-encoded.
 */
export function encodeConnectionId(connectionId: string): string {
  return encodeURIComponent(connectionId).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
