import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, unzip } from './package-artifact.js';

/** Extracts a function's zip from `.serverless` into `dir` and imports its handler, as Lambda would. */
export async function loadBundledHandler(
  functionName: string,
  handler: string,
  dir: string,
): Promise<(event: unknown, context?: unknown) => Promise<any>> {
  await unzip(join(ROOT, '.serverless', `${functionName}.zip`), dir);
  const dot = handler.lastIndexOf('.');
  const module = await import(pathToFileURL(join(dir, `${handler.slice(0, dot)}.mjs`)).href);
  const fn = module[handler.slice(dot + 1)];
  if (typeof fn !== 'function') throw new Error(`${functionName}: the bundle does not export ${handler}`);
  return fn;
}

/** The IAM (action, resource kind) pairs a role's policy grants, leaving out its log statements. */
export function grantedCalls(template: any, functionName: string, stage: string): string[] {
  const fn = Object.values(template.Resources as Record<string, any>).find(
    (r) => r.Properties?.FunctionName === `edge-relay-${stage}-${functionName}`,
  );
  const role = template.Resources[fn.Properties.Role['Fn::GetAtt'][0]];
  const granted = new Set<string>();
  for (const policy of role.Properties.Policies) {
    for (const statement of policy.PolicyDocument.Statement) {
      if (statement.Effect !== 'Allow') continue;
      for (const action of [statement.Action].flat() as string[]) {
        if (action.startsWith('logs:')) continue;
        for (const resource of [statement.Resource].flat()) granted.add(`${action} ${resourceKind(resource)}`);
      }
    }
  }
  return [...granted].sort();
}

function resourceKind(resource: unknown): string {
  const text = JSON.stringify(resource);
  if (text.includes('/index/')) return 'index';
  // The method is part of the ARN: .../${stage}/POST/@connections/* (as the recording proxy names it).
  const connections = /\/(\w+)\/@connections\//.exec(text);
  if (connections) return `${connections[1]} @connections`;
  if (text.includes('ConnectionsTable')) return 'table';
  return `unknown(${text})`;
}

/** The log statement of a function's role. */
export function logStatements(template: any, functionName: string, stage: string): any[] {
  const fn = Object.values(template.Resources as Record<string, any>).find(
    (r) => r.Properties?.FunctionName === `edge-relay-${stage}-${functionName}`,
  );
  const role = template.Resources[fn.Properties.Role['Fn::GetAtt'][0]];
  return role.Properties.Policies.flatMap((policy: any) => policy.PolicyDocument.Statement).filter((statement: any) =>
    [statement.Action].flat().some((action: string) => action.startsWith('logs:')),
  );
}
