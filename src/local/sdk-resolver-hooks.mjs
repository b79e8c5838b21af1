// Module resolve hooks (module.register) for a sandbox: an `import` of @aws-sdk/* that the
// handler's own node_modules lack resolves to the emulator's copy, as Lambda's Node.js runtimes
// provide SDK v3.
import { missingPackageMessage, providedByRuntime } from './sdk-resolver-rules.mjs';

let runtimeParent;

/** `data.runtimeParent`: a file URL inside the emulator, where its own packages resolve from. */
export async function initialize(data) {
  runtimeParent = data.runtimeParent;
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    // Other packages keep Node's own error; handler-loader.mjs words it if it ends the load.
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !providedByRuntime(specifier)) throw error;
    try {
      return await nextResolve(specifier, { ...context, parentURL: runtimeParent });
    } catch {
      throw Object.assign(new Error(missingPackageMessage(specifier, context.parentURL)), {
        code: 'ERR_MODULE_NOT_FOUND',
      });
    }
  }
}
