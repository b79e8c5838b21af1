import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { build } from 'esbuild';
import fg from 'fast-glob';
import yazl from 'yazl';
import { locateHandler } from '../src/local/handler-path.js';

/** One Lambda function to bundle, as serverless.yml declares it. */
export interface FunctionToBundle {
  name: string;
  handler: string;
  /** `package.patterns` of the function: extra files to ship (e.g. `public/**`). */
  patterns?: string[];
}

export interface BundleReport {
  name: string;
  zipPath: string;
  zipBytes: number;
  /** The handler module's size before compression. */
  codeBytes: number;
  files: string[];
}

/** Fixed timestamps keep the zips byte-identical between builds of the same code. */
const ZIP_MTIME = new Date('2020-01-01T00:00:00Z');

/**
 * Bundles the functions with esbuild — TypeScript compiled, tree-shaken, minified, one ESM file
 * with a linked source map — and zips each with the files its patterns name. A module that
 * several functions share (the three WebSocket handlers) is built once. The module keeps its path
 * (src/aws/handlers.ts → src/aws/handlers.mjs) so serverless.yml's `handler` works unchanged.
 */
export async function bundleFunctions(
  serviceDir: string,
  outDir: string,
  functions: FunctionToBundle[],
): Promise<BundleReport[]> {
  const codeDir = join(outDir, 'code');
  await rm(codeDir, { recursive: true, force: true });
  const builds = new Map<string, Promise<string>>();
  const reports: BundleReport[] = [];
  for (const fn of functions) {
    const { file, modulePath } = locateHandler(fn.handler, serviceDir, fn.name);
    const outfile = join(codeDir, `${modulePath}.mjs`);
    if (!builds.has(file))
      builds.set(
        file,
        buildModule(file, outfile).then(() => outfile),
      );
    reports.push(await zipFunction(serviceDir, outDir, fn, await builds.get(file)!, modulePath));
  }
  return reports;
}

async function buildModule(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    keepNames: true,
    sourcemap: 'linked',
    // Stack traces need the mappings only; the sources themselves would double the zip.
    sourcesContent: false,
    // The AWS SDK is bundled, not taken from the runtime: see README "Deploy".
    // CommonJS dependencies (fastify) call require(); ESM output needs one made for them.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    legalComments: 'none',
    logLevel: 'warning',
  });
}

async function zipFunction(
  serviceDir: string,
  outDir: string,
  fn: FunctionToBundle,
  outfile: string,
  modulePath: string,
): Promise<BundleReport> {
  const zipPath = join(outDir, `${fn.name}.zip`);
  const zip = new yazl.ZipFile();
  const files: string[] = [];
  const add = async (absolute: string, inZip: string) => {
    zip.addBuffer(await readFile(absolute), inZip, { mtime: ZIP_MTIME, mode: 0o100644 });
    files.push(inZip);
  };
  await add(outfile, `${modulePath}.mjs`);
  await add(`${outfile}.map`, `${modulePath}.mjs.map`);
  const extras = fn.patterns?.length ? await fg(fn.patterns, { cwd: serviceDir, onlyFiles: true, dot: false }) : [];
  for (const extra of extras.sort()) await add(join(serviceDir, extra), extra);
  await mkdir(dirname(zipPath), { recursive: true });
  await new Promise<void>((resolve, reject) => {
    zip.outputStream.pipe(createWriteStream(zipPath)).on('close', resolve).on('error', reject);
    zip.end();
  });

  return {
    name: fn.name,
    zipPath: relative(serviceDir, zipPath),
    zipBytes: (await stat(zipPath)).size,
    codeBytes: (await stat(outfile)).size,
    files,
  };
}
