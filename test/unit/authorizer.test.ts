import { describe, expect, it } from 'vitest';
import { decide, missingIdentitySource } from '../../src/local/authorizer.js';
import { websocketEvent } from '../fixtures/websocket-event.js';

const ARN = 'arn:aws:execute-api:us-east-1:000000000000:local/dev/$connect';
const policy = (Effect: string, Resource: string | string[], Action: string | string[] = 'execute-api:Invoke') => ({
  principalId: 'u',
  policyDocument: { Version: '2012-10-17', Statement: [{ Effect, Action, Resource }] },
});

describe('authorizer decisions', () => {
  it.each([
    [policy('Allow', ARN), true],
    [policy('Allow', 'arn:aws:execute-api:us-east-1:000000000000:local/dev/*'), true],
    [policy('Allow', '*', 'execute-api:*'), true],
    [policy('Allow', ['arn:other', ARN]), true],
    // '*/*' needs a slash after the stage that $connect does not have.
    [policy('Allow', 'arn:aws:execute-api:us-east-1:000000000000:local/dev/*/*'), false],
    [policy('Allow', ARN, 's3:GetObject'), false],
    // IAM actions are case-insensitive.
    [policy('Allow', ARN, 'execute-api:invoke'), true],
    [policy('Deny', ARN), false],
  ])('%j → allowed %s', (result, allowed) => {
    expect(decide({ result }, ARN).allowed).toBe(allowed);
  });

  it('Deny wins over Allow', () => {
    const result = {
      principalId: 'u',
      policyDocument: {
        Statement: [...policy('Allow', '*').policyDocument.Statement, ...policy('Deny', ARN).policyDocument.Statement],
      },
    };
    expect(decide({ result }, ARN)).toMatchObject({ allowed: false, statusCode: 403 });
  });

  it('maps errors and malformed results to 401 / 500', () => {
    expect(decide({ error: new Error('Unauthorized') }, ARN)).toMatchObject({ statusCode: 401 });
    expect(decide({ error: new Error('boom') }, ARN)).toMatchObject({ statusCode: 500 });
    expect(decide({ result: { statusCode: 200 } }, ARN)).toMatchObject({ statusCode: 500 });
    expect(decide({ result: { ...policy('Allow', ARN), context: { nested: { no: 1 } } } }, ARN)).toMatchObject({
      statusCode: 500,
    });
  });

  it('passes principalId and context on', () => {
    expect(decide({ result: { ...policy('Allow', ARN), context: { role: 'r', n: 1 } } }, ARN)).toEqual({
      allowed: true,
      authorizer: { role: 'r', n: 1, principalId: 'u' },
    });
  });

  it('finds missing identity sources', () => {
    const event = websocketEvent({ headers: { Auth: 'x' }, queryStringParameters: { token: '' } });
    expect(missingIdentitySource(['route.request.header.auth'], event)).toBeUndefined();
    expect(missingIdentitySource(['route.request.header.Auth', 'route.request.querystring.token'], event)).toBe(
      'route.request.querystring.token',
    );
  });
});
