import { createHash, createHmac } from 'node:crypto';
import type { AwsCredentialIdentity } from '@smithy/types';

/**
 * A request to sign: header names lower-case and all signable (no user-agent, no authorization),
 * `path` as it goes on the wire (percent-encoded).
 */
export interface SigV4Request {
  method: string;
  host: string;
  path: string;
  headers: Record<string, string>;
  /** Hex SHA-256 of the body. */
  payloadSha256: string;
}

/**
 * AWS Signature Version 4 for the hot paths' requests (no query string, a handful of headers),
 * synchronous and with the derived signing key cached per day: the SDK's SignatureV4 takes
 * ~20 µs and a dozen promise hops per request, and also HMACs the credentials on every call to
 * look its key cache up. Same canonical form as the SDK's signer (non-S3 services: the path is
 * normalised and encoded once more); test/unit/sigv4.test.ts holds the two to identical output.
 * Returns the headers to send: the request's own plus x-amz-date, x-amz-content-sha256,
 * x-amz-security-token (temporary credentials) and authorization.
 */
export function createSigV4Signer({ service, region }: { service: string; region: string }) {
  let cachedKey: { day: string; secretAccessKey: string; key: Buffer } | undefined;
  const signingKey = (day: string, { secretAccessKey }: AwsCredentialIdentity): Buffer => {
    if (cachedKey?.day !== day || cachedKey.secretAccessKey !== secretAccessKey) {
      const dateKey = hmac(`AWS4${secretAccessKey}`, day);
      cachedKey = { day, secretAccessKey, key: hmac(hmac(hmac(dateKey, region), service), 'aws4_request') };
    }
    return cachedKey.key;
  };

  // The date strings change once a second; a fan-out signs hundreds of requests within one.
  let stamp = { second: -1, amzDate: '', day: '', scope: '' };
  const dateStamp = (nowMs: number) => {
    const second = Math.floor(nowMs / 1000);
    if (stamp.second !== second) {
      const amzDate = new Date(second * 1000).toISOString().replace(/[-:]|\.\d{3}/g, '');
      const day = amzDate.slice(0, 8);
      stamp = { second, amzDate, day, scope: `${day}/${region}/${service}/aws4_request` };
    }
    return stamp;
  };

  return (request: SigV4Request, credentials: AwsCredentialIdentity, nowMs = Date.now()): Record<string, string> => {
    const { amzDate, day, scope } = dateStamp(nowMs);
    const headers: Record<string, string> = {
      ...request.headers,
      host: request.host,
      'x-amz-date': amzDate,
      'x-amz-content-sha256': request.payloadSha256,
    };
    if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;

    const names = Object.keys(headers).sort();
    const signedHeaders = names.join(';');
    let canonicalHeaders = '';
    for (const name of names) canonicalHeaders += `${name}:${canonicalValue(headers[name]!)}\n`;
    const canonicalRequest = `${request.method}\n${canonicalPath(request.path)}\n\n${canonicalHeaders}\n${signedHeaders}\n${request.payloadSha256}`;
    const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
    const signature = createHmac('sha256', signingKey(day, credentials)).update(stringToSign).digest('hex');

    headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return headers;
  };
}

/**
 * As the SDK's signer: line breaks become spaces, runs of spaces and tabs one space, one space
 * at either end goes. Most values (hex, dates, base64) have none of these: skip the rewriting.
 */
function canonicalValue(value: string): string {
  if (!/[\t\n\r ]/.test(value)) return value;
  return value
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '');
}

/** As the SDK's signer: drop empty and `.` segments, resolve `..`, then encode each once more. */
function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(uriEscape(segment));
  }
  return `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
}

/**
 * RFC 3986 unreserved characters stay, everything else is percent-encoded: the SDK's escapeUri,
 * for path labels (a connection id) and for the canonical path alike.
 */
export function uriEscape(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
