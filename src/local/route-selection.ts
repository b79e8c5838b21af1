import { RouteSelectionError } from './errors.js';

/**
 * API Gateway's route selection: evaluate the expression (e.g. `$request.body.action`, or
 * `${request.body.meta.route}`) against a JSON body; a string result that names a route selects
 * it, anything else (non-JSON, no value, non-string, unknown route) falls to `$default`.
 * Returns undefined when nothing matches and there is no `$default`.
 */
export function createRouteSelector(
  expression: string,
  routeKeys: Iterable<string>,
): (body: string) => string | undefined {
  const path = parseExpression(expression);
  const routes = new Set(routeKeys);
  const fallback = routes.has('$default') ? '$default' : undefined;
  return (body) => {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      return fallback;
    }
    for (const key of path) {
      if (typeof value !== 'object' || value === null) return fallback;
      value = (value as Record<string, unknown>)[key];
    }
    return typeof value === 'string' && routes.has(value) && !value.startsWith('$') ? value : fallback;
  };
}

function parseExpression(expression: string): string[] {
  const match = /^\$\{?request\.body\.([^}]+)\}?$/.exec(expression.trim());
  if (!match) {
    throw new RouteSelectionError(
      `route selection expression "${expression}" is not supported: use $request.body.<path>`,
    );
  }
  return match[1]!.split('.');
}
