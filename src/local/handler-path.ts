import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { FunctionLoadError } from './errors.js';

const MODULE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs', '.cjs'];

/** A serverless.yml `handler` (`path/to/module.exportName`) resolved to a source file. */
export interface HandlerLocation {
  /** Module path as written, without extension (Lambda looks for `<modulePath>.mjs` etc.). */
  modulePath: string;
  exportName: string;
  file: string;
}

/** Finds the module behind a handler string; the error names what was tried. */
export function locateHandler(handler: string, serviceDir: string, functionName: string): HandlerLocation {
  const dot = handler.lastIndexOf('.');
  if (dot <= 0)
    throw new FunctionLoadError(functionName, `handler "${handler}" must look like path/to/module.exportName`);
  const modulePath = handler.slice(0, dot);
  const exportName = handler.slice(dot + 1);
  const file = MODULE_EXTENSIONS.map((ext) => resolve(serviceDir, modulePath + ext)).find((candidate) =>
    existsSync(candidate),
  );
  if (!file) {
    throw new FunctionLoadError(
      functionName,
      `handler module ${modulePath} not found in ${serviceDir} (tried ${MODULE_EXTENSIONS.join(', ')})`,
    );
  }
  return { modulePath, exportName, file };
}
