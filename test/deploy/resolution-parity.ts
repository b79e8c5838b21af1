import { resolveIntrinsics } from '../../src/local/cloudformation-intrinsics.js';
import { LOCAL_ACCOUNT_ID } from '../../src/local/local-account.js';
import type { ServiceDefinition } from '../../src/local/serverless-config.js';

/** What serverless.yml's variables decide, in a shape both sides can be put in. */
export interface ResolvedView {
  functions: Record<string, { deployedName: string; timeout: number; memorySize: number; environment: unknown }>;
  tables: Record<string, unknown>;
}

/** The view `npm run dev` runs with. */
export function devView(service: ServiceDefinition): ResolvedView {
  return {
    functions: Object.fromEntries(
      Object.values(service.functions).map((fn) => [
        fn.name,
        {
          deployedName: fn.deployedName,
          timeout: fn.timeoutSeconds,
          memorySize: fn.memorySize,
          environment: fn.environment,
        },
      ]),
    ),
    tables: Object.fromEntries(service.tables.map((table) => [table.logicalId, table.properties])),
  };
}

/**
 * The same view read from the template `serverless package` wrote. Its CloudFormation references
 * are resolved as the emulator resolves them, so only a variable resolved differently shows.
 */
export function packagedView(template: any, service: ServiceDefinition, apiId = 'local'): ResolvedView {
  const resources = template.Resources as Record<string, any>;
  const stack = {
    region: service.region,
    stackName: `${service.service}-${service.stage}`,
    accountId: LOCAL_ACCOUNT_ID,
    resources,
    emulated: { WebsocketsApi: apiId, HttpApi: apiId },
  };
  const functions: ResolvedView['functions'] = {};
  for (const name of Object.keys(service.functions)) {
    // osls's logical id for a function: its key, capitalised, + LambdaFunction.
    const fn = resources[`${name[0]!.toUpperCase()}${name.slice(1)}LambdaFunction`]?.Properties;
    if (!fn) continue;
    const variables = resolveIntrinsics(fn.Environment?.Variables ?? {}, stack) as Record<string, unknown>;
    functions[name] = {
      deployedName: fn.FunctionName,
      timeout: fn.Timeout,
      memorySize: fn.MemorySize,
      environment: Object.fromEntries(Object.entries(variables).map(([key, value]) => [key, String(value)])),
    };
  }
  const tables = Object.fromEntries(
    Object.entries(resources)
      .filter(([, resource]) => resource.Type === 'AWS::DynamoDB::Table')
      .map(([logicalId, resource]) => [logicalId, resource.Properties]),
  );
  return { functions, tables };
}
