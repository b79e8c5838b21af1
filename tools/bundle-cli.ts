import { bundleFunctions, type FunctionToBundle } from './bundle-functions.js';

/**
 * `tsx tools/bundle-cli.ts '<json>'`: bundles the functions named in the JSON request
 * ({ serviceDir, outDir, functions: [{ name, handler, patterns }] }) and prints the reports as JSON.
 * The Serverless plugin runs this in its own process, away from the framework's module hooks.
 */
const request = JSON.parse(process.argv[2] ?? '{}') as {
  serviceDir: string;
  outDir: string;
  functions: FunctionToBundle[];
};
process.stdout.write(JSON.stringify(await bundleFunctions(request.serviceDir, request.outDir, request.functions)));
