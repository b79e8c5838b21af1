import { createHash } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { encodeConnectionId } from '../../src/aws/signed-http-sender.js';
import { createSigV4Signer } from '../../src/aws/sigv4.js';

const permanent = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const temporary = { ...permanent, sessionToken: 'IQoJb3JpZ2luX2VjE//+token==' };
const body = '{"type":"message","data":{"text":"hi"}}';
const payloadSha256 = createHash('sha256').update(body).digest('hex');

/** What the SDK's own signer makes of the same request: the reference. */
async function sdkSignature(
  service: string,
  region: string,
  credentials: typeof permanent,
  path: string,
  headers: Record<string, string>,
  signingDate: Date,
) {
  const signer = new SignatureV4({
    service,
    region,
    credentials,
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'https:',
      hostname: 'abc.example.com',
      path,
      query: {},
      headers: { ...headers, host: 'abc.example.com', 'x-amz-content-sha256': payloadSha256 },
      body,
    },
    { signingDate },
  );
  return signed.headers;
}

describe('SigV4 signer (hot path)', () => {
  const cases: [string, string, string, typeof permanent, string, Record<string, string>][] = [
    [
      'PostToConnection',
      'execute-api',
      'eu-west-1',
      permanent,
      `/prod/@connections/${encodeConnectionId('Ab+/=c!d')}`,
      { 'content-type': 'application/octet-stream' },
    ],
    [
      'an id with every character class',
      'execute-api',
      'us-east-1',
      temporary,
      `/@connections/${encodeConnectionId("a~b_c-d.e*f(g)h'i%j é")}`,
      { 'content-type': 'application/octet-stream' },
    ],
    [
      'a dot segment',
      'execute-api',
      'us-east-1',
      permanent,
      '/prod/@connections/./x/../y',
      { 'content-type': 'application/octet-stream' },
    ],
    [
      'DynamoDB',
      'dynamodb',
      'cn-north-1',
      temporary,
      '/',
      { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.Query' },
    ],
    [
      'header values with runs of spaces, tabs, line breaks and non-ASCII spaces',
      'dynamodb',
      'us-east-1',
      permanent,
      '/',
      {
        'content-type': '  application/x-amz-json-1.0 ',
        'x-amz-target': 'A \t  B\r\nC',
        'x-amz-meta': '\u00a0a\u2003 b\u000b',
      },
    ],
    [
      'a session token with spaces in it',
      'execute-api',
      'us-east-1',
      { ...permanent, sessionToken: ' tok  en ' },
      '/@connections/x',
      { 'content-type': 'application/octet-stream' },
    ],
  ];

  it.each(cases)(
    "%s: the same headers and signature as the SDK's signer",
    async (_name, service, region, credentials, path, headers) => {
      const signingDate = new Date('2026-11-29T23:59:59.999Z');
      const sign = createSigV4Signer({ service, region });

      const ours = sign(
        { method: 'POST', host: 'abc.example.com', path, headers, payloadSha256 },
        credentials,
        signingDate.getTime(),
      );

      expect(ours).toEqual(await sdkSignature(service, region, credentials, path, headers, signingDate));
    },
  );

  it('derives a new signing key when the day or the credentials change', async () => {
    const sign = createSigV4Signer({ service: 'execute-api', region: 'eu-west-1' });
    const request = { method: 'POST', host: 'abc.example.com', path: '/@connections/x', headers: {}, payloadSha256 };
    const rotated = { accessKeyId: 'AKIDOTHER', secretAccessKey: 'another-secret' };

    for (const [credentials, date] of [
      [permanent, '2026-11-29T12:00:00Z'],
      [permanent, '2026-11-30T00:00:01Z'],
      [rotated, '2026-11-30T00:00:02Z'],
    ] as const) {
      const signingDate = new Date(date);
      expect(sign(request, credentials, signingDate.getTime()).authorization).toBe(
        (await sdkSignature('execute-api', 'eu-west-1', credentials, request.path, {}, signingDate)).authorization,
      );
    }
  });
});
