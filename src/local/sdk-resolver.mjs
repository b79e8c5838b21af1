// In a sandbox: handlers without their own @aws-sdk/* get the emulator's copy, for `import`
// (a resolve hook, this thread only) and for `require` (Module._resolveFilename).
import Module, { createRequire, register } from 'node:module';
import { missingPackageMessage, providedByRuntime } from './sdk-resolver-rules.mjs';

const runtimeRequire = createRequire(import.meta.url);

/** Registered after tsx's hooks, so it runs first and sees tsx's resolution fail. */
export function installSdkResolver() {
  register(new URL('./sdk-resolver-hooks.mjs', import.meta.url), { data: { runtimeParent: import.meta.url } });
  const original = Module._resolveFilename;
  Module._resolveFilename = function resolveFilename(request, parent, isMain, options) {
    try {
      return original.call(this, request, parent, isMain, options);
    } catch (error) {
      // Other packages keep Node's own error (libraries probe optional ones by its message);
      // handler-loader.mjs words it for the user if it ends the handler's load.
      if (error?.code !== 'MODULE_NOT_FOUND' || !providedByRuntime(request)) throw error;
      try {
        return runtimeRequire.resolve(request);
      } catch {
        throw Object.assign(new Error(missingPackageMessage(request, parent?.filename)), { code: 'MODULE_NOT_FOUND' });
      }
    }
  };
}
