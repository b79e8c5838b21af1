import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';
import aws4 from 'aws4';
import type { SigV4Request } from './sigv4.js';

/** aws4 (synchronous). */
export function createAws4Signer({ service, region }: { service: string; region: string }) {
  return (request: SigV4Request, credentials: AwsCredentialIdentity): Record<string, string> => {
    const signed = aws4.sign(
      {
        service,
        region,
        method: request.method,
        host: request.host,
        path: request.path,
        headers: { ...request.headers, 'x-amz-content-sha256': request.payloadSha256 },
      },
      credentials,
    );
    return signed.headers as Record<string, string>;
  };
}

/** @smithy/signature-v4 (asynchronous). */
export function createSmithySigner({ service, region }: { service: string; region: string }) {
  let current: AwsCredentialIdentity | undefined;
  const signer = new SignatureV4({
    service,
    region,
    credentials: async () => current!,
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: false,
  });
  return async (request: SigV4Request, credentials: AwsCredentialIdentity): Promise<Record<string, string>> => {
    current = credentials;
    const [hostname, port] = request.host.split(':');
    const signed = await signer.sign({
      method: request.method,
      protocol: 'https:',
      hostname: hostname!,
      port: port ? Number(port) : undefined,
      path: request.path,
      query: {},
      headers: { ...request.headers, host: request.host, 'x-amz-content-sha256': request.payloadSha256 },
    });
    return signed.headers;
  };
}
