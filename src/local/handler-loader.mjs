// Loads a handler as the Lambda Node.js 18/20/22 runtime does (its UserFunction algorithm):
// `require` for CommonJS, `import` only for ESM, the handler found by a path of properties.
// TypeScript sources (.ts, .mts, .cts, through tsx) are tried last, as the Node.js 24 runtime does.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { missingPackageMessage } from './sdk-resolver-rules.mjs';

const require = createRequire(import.meta.url);

/** A load failure that says what was not found, for the one line the emulator prints. */
export class HandlerLoadError extends Error {
  constructor(message) {
    super(message);
    this.name = 'HandlerLoadError';
  }
}

/**
 * Splits `path/to/module.a.b` at the first dot of its last segment: module `path/to/module`,
 * property path `a.b` (a module name cannot contain a dot, as on Lambda).
 */
export function parseHandler(handler) {
  if (handler.includes('..')) throw new HandlerLoadError(`"${handler}" is not a valid handler name (it contains "..")`);
  const base = basename(handler);
  const match = /^([^.]*)\.(.+)$/.exec(base);
  if (!match?.[1]) {
    throw new HandlerLoadError(`"${handler}" is not a valid handler name: it must look like path/to/module.export`);
  }
  return { moduleRoot: handler.slice(0, handler.length - base.length), moduleName: match[1], propertyPath: match[2] };
}

/** The candidates Lambda tries, in its order: [file, how it loads it]. */
export function moduleCandidates(appRoot, handler) {
  const { moduleRoot, moduleName } = parseHandler(handler);
  const file = resolve(appRoot, moduleRoot, moduleName);
  const esm = isTypeModule(dirname(file));
  return [
    [file, 'require'],
    [`${file}.js`, esm ? 'import' : 'require'],
    [`${file}.mjs`, 'import'],
    [`${file}.cjs`, 'require'],
    [`${file}.ts`, esm ? 'import' : 'require'],
    [`${file}.mts`, 'import'],
    [`${file}.cts`, 'require'],
  ];
}

/** Resolves with the handler function; rejects with a HandlerLoadError naming what is missing. */
export async function loadHandler(appRoot, handler) {
  const { moduleRoot, moduleName, propertyPath } = parseHandler(handler);
  const found = moduleCandidates(appRoot, handler).find(([file]) => isFile(file));
  if (!found) {
    const folder = resolve(appRoot, moduleRoot);
    throw new HandlerLoadError(
      `module ${moduleName} not found in ${folder} (tried no extension, .js, .mjs, .cjs, .ts, .mts, .cts)`,
    );
  }
  const [file, how] = found;
  let loaded;
  try {
    loaded = how === 'require' ? require(file) : await import(pathToFileURL(file).href);
  } catch (error) {
    throw missingPackage(error) ?? error;
  }
  const fn = propertyPath.split('.').reduce((value, key) => value?.[key], loaded);
  if (fn === undefined || fn === null)
    throw new HandlerLoadError(`${propertyPath} is undefined or not exported by ${file}`);
  if (typeof fn !== 'function') throw new HandlerLoadError(`${propertyPath} in ${file} is not a function`);
  return fn;
}

/** A package the handler's code imports and nobody installed, said in Lambda's terms. */
function missingPackage(error) {
  if (error?.code !== 'MODULE_NOT_FOUND' && error?.code !== 'ERR_MODULE_NOT_FOUND') return undefined;
  const match = /Cannot find (?:module|package) '([^']+)'(?: imported from (\S+))?/.exec(error.message);
  const specifier = match?.[1];
  if (!specifier || /^(?:[./]|[a-z][a-z0-9+.-]*:)/i.test(specifier)) return undefined;
  const importer = match[2] ?? /Require stack:\n- (.+)/.exec(error.message)?.[1];
  return new HandlerLoadError(missingPackageMessage(specifier, importer));
}

/** The nearest package.json decides, up to a node_modules folder (Lambda's rule). */
function isTypeModule(folder) {
  for (let current = folder; ; ) {
    if (current.endsWith('/node_modules')) return false;
    const manifest = join(current, 'package.json');
    if (existsSync(manifest)) {
      try {
        return JSON.parse(readFileSync(manifest, 'utf8')).type === 'module';
      } catch {
        return false;
      }
    }
    const parent = dirname(current);
    if (parent === current) return false;
    current = parent;
  }
}

function isFile(file) {
  return statSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
}
