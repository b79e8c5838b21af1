import type { WebSocketEvent } from '../aws/websocket-event.js';

/**
 * A REQUEST Lambda authorizer on $connect, as API Gateway runs it: identity sources are checked
 * first (a missing one is 401 without calling the function), then the returned IAM policy
 * decides (Deny or no matching Allow is 403); `Unauthorized` thrown is 401, anything else 500.
 */
export type AuthorizerDecision =
  | { allowed: true; authorizer: Record<string, unknown> }
  | { allowed: false; statusCode: 401 | 403 | 500; reason: string };

/** The first declared identity source the request lacks (or has empty), if any. */
export function missingIdentitySource(identitySource: string[], event: WebSocketEvent): string | undefined {
  const headers = new Map(Object.entries(event.headers ?? {}).map(([key, value]) => [key.toLowerCase(), value]));
  const has = (map: Record<string, string> | undefined, key: string) =>
    Boolean(map && Object.hasOwn(map, key) && map[key]);
  return identitySource.find((source) => {
    const header = /^route\.request\.header\.(.+)$/.exec(source);
    if (header) return !headers.get(header[1]!.toLowerCase());
    const query = /^route\.request\.querystring\.(.+)$/.exec(source);
    if (query) return !has(event.queryStringParameters, query[1]!);
    const stageVariable = /^stageVariables\.(.+)$/.exec(source);
    if (stageVariable) return !has(event.stageVariables, stageVariable[1]!);
    return false; // $context.* sources are always present
  });
}

/** The event a REQUEST authorizer receives for a $connect. */
export function authorizerEvent(connect: WebSocketEvent, methodArn: string): Record<string, unknown> {
  return {
    type: 'REQUEST',
    methodArn,
    headers: connect.headers,
    multiValueHeaders: connect.multiValueHeaders,
    queryStringParameters: connect.queryStringParameters ?? {},
    multiValueQueryStringParameters: connect.multiValueQueryStringParameters ?? {},
    stageVariables: {},
    requestContext: connect.requestContext,
  };
}

/** Reads what the authorizer function returned or threw. */
export function decide(outcome: { result?: unknown; error?: unknown }, methodArn: string): AuthorizerDecision {
  if (outcome.error !== undefined) {
    const message = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
    return message === 'Unauthorized'
      ? { allowed: false, statusCode: 401, reason: 'authorizer answered Unauthorized' }
      : { allowed: false, statusCode: 500, reason: `authorizer failed: ${message}` };
  }
  const result = outcome.result as
    | { principalId?: unknown; policyDocument?: { Statement?: unknown }; context?: unknown }
    | undefined;
  const statements = result?.policyDocument?.Statement;
  if (typeof result?.principalId !== 'string' || !Array.isArray(statements)) {
    return {
      allowed: false,
      statusCode: 500,
      reason: 'authorizer returned no principalId and policyDocument.Statement',
    };
  }
  const context = result.context ?? {};
  if (
    typeof context !== 'object' ||
    Object.values(context).some((value) => typeof value === 'object' && value !== null)
  ) {
    return {
      allowed: false,
      statusCode: 500,
      reason: 'authorizer context values must be strings, numbers or booleans',
    };
  }
  const matching = statements.filter((statement) => appliesTo(statement, methodArn));
  if (matching.some((statement) => statement.Effect === 'Deny'))
    return { allowed: false, statusCode: 403, reason: 'policy denies' };
  if (!matching.some((statement) => statement.Effect === 'Allow'))
    return { allowed: false, statusCode: 403, reason: 'no policy statement allows' };
  return { allowed: true, authorizer: { ...context, principalId: result.principalId } };
}

function appliesTo(statement: { Action?: unknown; Resource?: unknown }, methodArn: string): boolean {
  const actions = [statement.Action].flat().map(String);
  const resources = [statement.Resource].flat().map(String);
  // IAM compares actions case-insensitively, resources exactly.
  return (
    actions.some((action) => glob(action, 'i').test('execute-api:Invoke')) &&
    resources.some((resource) => glob(resource).test(methodArn))
  );
}

/** IAM wildcards: `*` any run of characters, `?` one character. */
function glob(pattern: string, flags = ''): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, flags);
}
