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
      if (error?.code !== 'MODULE_NOT_FOUND' || /^(?:[./]|node:)/.test(request) || Module.isBuiltin(request))
        throw error;
      if (providedByRuntime(request)) {
        try {
          return runtimeRequire.resolve(request);
        } catch {
          // fall through to the clear message
        }
      }
      throw Object.assign(new Error(missingPackageMessage(request, parent?.filename)), { code: 'MODULE_NOT_FOUND' });
    }
  };
}
