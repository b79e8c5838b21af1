import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echo, openProbe, startTarget, type Target } from './target.js';

describe('conformance: REQUEST Lambda authorizer on $connect', () => {
  let target: Target;
  beforeAll(async () => {
    target = await startTarget('probe');
  });
  afterAll(() => target?.close());

  it('Allow: principalId and context appear as requestContext.authorizer on $connect and later events', async () => {
    const client = await openProbe(target);
    const { event, connectEvent } = await echo(client, { want: 'connectEvent' });
    const expected = { principalId: 'probe-user', role: 'tester', level: 3, admin: false };
    expect(event.requestContext.authorizer).toMatchObject(expected);
    expect(connectEvent.requestContext.authorizer).toMatchObject(expected);
    await client.close();
  });

  it.each([
    ['a Deny policy', 'deny', 403],
    ['an Unauthorized error', 'unauthorized', 401],
    ['an authorizer that throws', 'crash', 500],
    ['a malformed authorizer result', 'malformed', 500],
  ])('%s (token %s) refuses the handshake with %i', async (_name, token, status) => {
    await expect(openProbe(target, { token })).rejects.toMatchObject({ statusCode: status });
  });

  it('a missing query-string identity source is 401', async () => {
    await expect(openProbe(target, { token: '' })).rejects.toMatchObject({ statusCode: 401 });
  });

  it('a missing or empty header identity source is 401', async () => {
    await expect(openProbe(target, { headers: { 'X-Probe': '' } })).rejects.toMatchObject({ statusCode: 401 });
  });

  it('header identity sources match case-insensitively', async () => {
    const client = await openProbe(target, { headers: { 'X-Probe': '', 'x-probe': 'lower' } });
    expect((await echo(client)).event.requestContext.routeKey).toBe('echo');
    await client.close();
  });
});
