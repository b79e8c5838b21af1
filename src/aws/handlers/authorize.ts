import type { Context } from 'aws-lambda';
import { type IdentityContext, identityContext } from '../../core/identity.js';
import { loadAuthConfig } from '../auth-config.js';
import { createConnectionIdentifier, type IdentifyConnection } from '../jwt-identity.js';
import { TokenRejectedError } from '../jwt-verifier.js';
import { createLambdaLogger } from '../logger.js';

/** The REQUEST authorizer event API Gateway sends for a WebSocket $connect (the parts read here). */
export interface ConnectAuthorizerEvent {
  type?: 'REQUEST';
  /** `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/$connect`: what the policy allows. */
  methodArn: string;
  headers?: Record<string, string | undefined> | null;
  queryStringParameters?: Record<string, string | undefined> | null;
  requestContext?: { connectionId?: string };
}

/** An Allow policy on this $connect, with the identity every later event of the connection carries. */
export interface ConnectAuthorizerResult {
  principalId: string;
  policyDocument: {
    Version: '2012-10-17';
    Statement: [{ Action: 'execute-api:Invoke'; Effect: 'Allow'; Resource: string }];
  };
  context: IdentityContext;
}

const logger = createLambdaLogger();
/** Built on first use, once per cold start (the JWKS cache lives in it); a bad setting fails every call loudly. */
let identify: IdentifyConnection | undefined;

/**
 * $connect authorizer (serverless.yml: src/aws/handlers/authorize.handler). Browsers cannot set
 * headers on a WebSocket, so the token comes in `?token=`; other clients may send
 * `Authorization: Bearer <token>` instead (the query wins when both are there). An empty token
 * is no token. A token at fault is refused as API Gateway refuses with 401: by throwing
 * `Unauthorized`; the reason goes to the log, the token never does.
 */
export async function handler(event: ConnectAuthorizerEvent, context?: Context): Promise<ConnectAuthorizerResult> {
  if (context) logger.addContext(context);
  logger.appendKeys({ connectionId: event.requestContext?.connectionId, routeKey: '$connect' });
  try {
    identify ??= createConnectionIdentifier(loadAuthConfig(process.env));
    const identity = await identify(tokenOf(event));
    return {
      principalId: identity.userId ?? 'anonymous',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
      },
      context: identityContext(identity),
    };
  } catch (error) {
    if (error instanceof TokenRejectedError) {
      logger.warn('connection refused', { reason: error.message });
      throw new Error('Unauthorized');
    }
    logger.error('authorizer failed', { error });
    throw error;
  } finally {
    logger.resetKeys();
  }
}

/** The token the client sent, if any. */
export function tokenOf(event: ConnectAuthorizerEvent): string | undefined {
  const query = event.queryStringParameters?.token;
  if (query) return query;
  const authorization = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'authorization');
  return authorization?.[1]?.match(/^Bearer\s+(\S+)\s*$/i)?.[1] || undefined;
}
