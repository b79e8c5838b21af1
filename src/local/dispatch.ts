import type { WebSocketResult } from '../aws/websocket-event.js';
import type { LocalConnection } from './connection.js';
import { FunctionNotLoadedError } from './errors.js';
import { type ApiIdentity, type ConnectionIdentity, disconnectEvent, messageEvent } from './events.js';
import { forbiddenFrame, internalServerErrorFrame } from './gateway-responses.js';
import { failedResultLine, thrownErrorLine } from './invocation-log.js';
import type { LocalFunction } from './lambda-runtime.js';
import { createRouteSelector } from './route-selection.js';
import type { RouteDefinition } from './serverless-config.js';

export interface DispatchOptions {
  routeSelectionExpression: string;
  routes: RouteDefinition[];
  /** Function name → invocable function; complete before any connection is admitted. */
  functions: ReadonlyMap<string, LocalFunction>;
  api: ApiIdentity;
  log(message: string): void;
}

/** Routes and invokes: what happens between a frame (or a close) and the service's handlers. */
export interface Dispatch {
  /** The route whose key is given, if the API declares it. */
  route(routeKey: string): RouteDefinition | undefined;
  /** Invokes a function by name, tracked so that `settled` can wait for it. */
  invoke(functionName: string, event: unknown): Promise<unknown>;
  /** A text frame: selects the route, invokes it, sends a route response or the gateway's error frame. */
  message(connection: LocalConnection, body: string): Promise<void>;
  /** The connection is over: runs $disconnect, if declared; its failure is only logged, as on AWS. */
  disconnect(identity: ConnectionIdentity, code: number, reason: string): Promise<void>;
  /** Resolves once every invocation started so far has finished. */
  settled(): Promise<void>;
}

/**
 * API Gateway's dispatch: frames are routed by the selection expression, each invocation runs
 * independently (as concurrent Lambdas would), and only a route response sends a handler's
 * body back to the caller.
 */
export function createDispatch(options: DispatchOptions): Dispatch {
  const { api, log } = options;
  const routes = new Map(options.routes.map((route) => [route.routeKey, route]));
  const selectRoute = createRouteSelector(
    options.routeSelectionExpression,
    [...routes.keys()].filter((key) => key !== '$connect' && key !== '$disconnect'),
  );

  // Invocations in flight, so shutdown can wait for the $disconnects it causes.
  const inFlight = new Set<Promise<unknown>>();
  const invoke = (functionName: string, event: unknown): Promise<unknown> => {
    const fn = options.functions.get(functionName);
    if (!fn) return Promise.reject(new FunctionNotLoadedError(functionName));
    const invocation = fn.invoke(event);
    const tracked = invocation.catch(() => undefined).finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    return invocation;
  };

  const logFailedResult = (route: RouteDefinition, result: unknown): void => {
    const line = failedResultLine(route.routeKey, route.functionName, result);
    if (line) log(line);
  };

  const message = async (connection: LocalConnection, body: string): Promise<void> => {
    const routeKey = selectRoute(body);
    const event = messageEvent(api, connection, routeKey ?? '$default', body);
    const { requestId } = event.requestContext;
    const route = routeKey === undefined ? undefined : routes.get(routeKey);
    if (!route) return void connection.socket.send(forbiddenFrame(connection.connectionId, requestId));
    try {
      const result = await invoke(route.functionName, event);
      logFailedResult(route, result);
      // Only a route response sends the handler's body back (two-way communication).
      const responseBody = (result as WebSocketResult | undefined)?.body;
      if (route.routeResponseSelectionExpression === '$default' && typeof responseBody === 'string') {
        connection.socket.send(responseBody);
      }
    } catch (error) {
      log(thrownErrorLine(route.routeKey, route.functionName, error));
      connection.socket.send(internalServerErrorFrame(connection.connectionId, requestId));
    }
  };

  const disconnect = async (identity: ConnectionIdentity, code: number, reason: string): Promise<void> => {
    const route = routes.get('$disconnect');
    if (!route) return;
    try {
      logFailedResult(route, await invoke(route.functionName, disconnectEvent(api, identity, code, reason)));
    } catch (error) {
      log(thrownErrorLine(route.routeKey, route.functionName, error));
    }
  };

  return {
    route: (routeKey) => routes.get(routeKey),
    invoke,
    message,
    disconnect,
    settled: async () => void (await Promise.all(inFlight)),
  };
}
