import { describe, expect, it } from 'vitest';
import { redirectTargets } from '../../src/local/aws-redirect.mjs';

describe('which hosts a sandbox reaches locally', () => {
  const targetOf = redirectTargets({ apiId: 'local', wsPort: 3001, dynamodb: 'http://127.0.0.1:8000' });
  const management = { host: '127.0.0.1', port: 3001, tls: false };
  const dynamodb = { host: '127.0.0.1', port: 8000, tls: false };

  it.each([
    ['local.execute-api.us-east-1.amazonaws.com', management],
    ['local.execute-api.cn-north-1.amazonaws.com.cn', management],
    ['LOCAL.execute-api.eu-west-1.amazonaws.com.', management],
    ['dynamodb.us-east-1.amazonaws.com', dynamodb],
    ['dynamodb-fips.us-gov-west-1.amazonaws.com', dynamodb],
    ['dynamodb.us-east-1.api.aws', dynamodb],
    ['123456789012.ddb.us-east-1.amazonaws.com', dynamodb],
    ['dynamodb.cn-north-1.amazonaws.com.cn', dynamodb],
  ])('%s is redirected', (host, target) => {
    expect(targetOf(host, 443)).toEqual(target);
  });

  it.each([
    'other.execute-api.us-east-1.amazonaws.com',
    'local.execute-api.example.com',
    'dynamodb.s3.amazonaws.com',
    'dynamodb.exports.s3.us-east-1.amazonaws.com',
    'dynamodb.mycorp.internal',
    'dynamodb.us-east-1.amazonaws.com.evil.example',
    's3.us-east-1.amazonaws.com',
    'sqs.us-east-1.amazonaws.com',
  ])('%s is left alone', (host) => {
    expect(targetOf(host, 443)).toBeUndefined();
  });

  it('https to the plain-HTTP WebSocket port (a scheme-less SDK v2 endpoint) goes there as plain HTTP', () => {
    expect(targetOf('127.0.0.1', 3001)).toEqual(management);
    expect(targetOf('127.0.0.1', 3002)).toBeUndefined();
  });
});
