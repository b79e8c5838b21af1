import type { WebSocketEvent, WebSocketResult } from '../aws/websocket-event.js';
import { authorizerEvent, decide, missingIdentitySource } from './authorizer.js';
import type { ConnectionIdentity } from './events.js';
import { failedResultLine, thrownErrorLine } from './invocation-log.js';
import type { RouteDefinition } from './serverless-config.js';

export interface AdmissionOptions {
  /** The $connect route, if the API has one. */
  connect: RouteDefinition | undefined;
  /** The ARN a REQUEST authorizer's policy is evaluated against. */
  methodArn: string;
  invoke(functionName: string, event: unknown): Promise<unknown>;
  log(message: string): void;
}

/**
 * The gate of a handshake, as API Gateway runs it: the REQUEST authorizer (identity sources,
 * then its policy), then the $connect handler, whose status decides. Resolves with the HTTP
 * status that refuses the handshake, or undefined to accept it.
 */
export function createConnectAdmission({ connect, methodArn, invoke, log }: AdmissionOptions) {
  return async (event: WebSocketEvent, identity: ConnectionIdentity): Promise<number | undefined> => {
    const authorizer = connect?.authorizer;
    if (authorizer) {
      const missing = missingIdentitySource(authorizer.identitySource, event);
      if (missing) {
        log(`$connect refused 401: identity source ${missing} is missing`);
        return 401;
      }
      const outcome = await invoke(authorizer.functionName, authorizerEvent(event, methodArn)).then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      );
      const decision = decide(outcome, methodArn);
      if (!decision.allowed) {
        log(`$connect refused ${decision.statusCode}: ${decision.reason}`);
        return decision.statusCode;
      }
      // The authorizer's context is on this and every later event of the connection.
      identity.authorizer = decision.authorizer;
      event.requestContext.authorizer = decision.authorizer;
    }
    if (!connect) return undefined;
    try {
      const result = await invoke(connect.functionName, event);
      const status = statusOf(result);
      if (status >= 200 && status <= 299) return undefined;
      // A refusal the handler chose; its body says why, and only the terminal shows it.
      log(
        failedResultLine('$connect', connect.functionName, result) ??
          `$connect (function ${connect.functionName}) refused the connection with ${status}`,
      );
      return status;
    } catch (error) {
      log(thrownErrorLine('$connect', connect.functionName, error));
      // A failed Lambda proxy integration answers 502, as on AWS.
      return 502;
    }
  };
}

/** A proxy result without statusCode counts as success, as API Gateway treats it. */
function statusOf(result: unknown): number {
  const status = (result as WebSocketResult | undefined)?.statusCode;
  return typeof status === 'number' ? status : 200;
}
