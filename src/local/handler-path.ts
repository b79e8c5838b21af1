import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { FunctionLoadError } from './errors.js';
import { moduleCandidates, parseHandler } from './handler-loader.mjs';

/** A serverless.yml `handler` (`path/to/module.a.b`) resolved to the file Lambda would load. */
export interface HandlerLocation {
  /** The module's file; the sandbox loads it (handler-loader.mjs) and finds the export. */
  file: string;
  /** The property path after the module name: `a.b` in `module.a.b`. */
  propertyPath: string;
}

/**
 * Finds the module behind a handler string before any sandbox starts, by Lambda's rules (split
 * at the first dot of the last segment; index, .js, .mjs, .cjs, then TypeScript sources).
 */
export function locateHandler(handler: string, serviceDir: string, functionName: string): HandlerLocation {
  let parsed: ReturnType<typeof parseHandler>;
  try {
    parsed = parseHandler(handler);
  } catch (error) {
    throw new FunctionLoadError(functionName, (error as Error).message);
  }
  const found = moduleCandidates(serviceDir, handler).find(
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
  return { file: found[0], propertyPath: parsed.propertyPath };
}
