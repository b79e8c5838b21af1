import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { FunctionLoadError } from './errors.js';
import { moduleCandidates, parseHandler } from './handler-loader.mjs';

/**
 * Checks that the module behind a handler string exists before any sandbox starts, by Lambda's rules
 * (split at the first dot of the last segment; index, .js, .mjs, .cjs, then TypeScript sources): a
 * missing file is one clear error at start. The sandbox loads the module and finds the export.
 */
export function assertHandlerModuleExists(handler: string, serviceDir: string, functionName: string): void {
  let parsed: ReturnType<typeof parseHandler>;
  try {
    parsed = parseHandler(handler);
  } catch (error) {
    throw new FunctionLoadError(functionName, (error as Error).message);
  }
  const found = moduleCandidates(serviceDir, handler).some(
    ([file]) => statSync(file, { throwIfNoEntry: false })?.isFile() ?? false,
  );
  if (!found) {
    const folder = resolve(serviceDir, parsed.moduleRoot);
    throw new FunctionLoadError(
      functionName,
      `handler "${handler}": module ${parsed.moduleName} not found in ${folder} ` +
        '(tried no extension, .js, .mjs, .cjs, .ts, .mts, .cts)',
    );
  }
}
