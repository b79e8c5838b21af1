import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import yauzl from 'yauzl';

export const ROOT = resolve(import.meta.dirname, '../..');

export interface PackageRun {
  /** What the framework printed (it logs to stderr). */
  output: string;
  template: any;
  /** Where the zips and templates were written. */
  packageDir: string;
  /** What packaging left in the OS temp dir (its own, for the run): nothing, when it cleans up. */
  leftInTempDir: string[];
}

/**
 * Runs the real `serverless package` (the pinned osls) offline, with fake credentials, in `serviceDir`.
 * `args` go to the command as given (e.g. `--param=key=value`); `packageDir` is `--package`.
 */
export function runServerlessPackage(options: {
  serviceDir?: string;
  stage: string;
  region: string;
  args?: string[];
  packageDir?: string;
  env?: Record<string, string>;
  /** `deploy` is for checks that must stop it before it reaches AWS (it runs offline, with fake credentials). */
  command?: 'package' | 'deploy';
}): PackageRun {
  const serviceDir = options.serviceDir ?? ROOT;
  const packageDir = options.packageDir ?? join(serviceDir, '.serverless');
  const command = [
    join(ROOT, 'node_modules/.bin/serverless'),
    options.command ?? 'package',
    '--stage',
    options.stage,
    '--region',
    options.region,
    // serverless-esbuild prints each function's zip size only when asked to be verbose.
    '--verbose',
    ...(options.packageDir ? ['--package', options.packageDir] : []),
    ...(options.args ?? []),
  ];
  // Without a network where the machine allows it: packaging must not need one.
  const offline = spawnSync('unshare', ['-n', 'true']).status === 0;
  const [file, ...args] = offline ? ['unshare', '-n', ...command] : command;
  // A temp dir of its own: whatever packaging forgets there is seen, and removed here.
  const ownTempDir = mkdtempSync(join(tmpdir(), 'edge-relay-package-'));
  try {
    const run = spawnSync(file!, args, {
      cwd: serviceDir,
      encoding: 'utf8',
      env: {
        ...process.env,
        TMPDIR: ownTempDir,
        AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE',
        AWS_SECRET_ACCESS_KEY: 'fake',
        AWS_SESSION_TOKEN: '',
        AWS_PROFILE: '',
        ...options.env,
      },
    });
    const output = `${run.stdout}${run.stderr}`;
    if (run.status !== 0)
      throw new Error(`serverless ${options.command ?? 'package'} failed (${run.status}):\n${output}`);
    const template = JSON.parse(readFileSync(join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8'));
    return { output, template, packageDir, leftInTempDir: readdirSync(ownTempDir) };
  } finally {
    rmSync(ownTempDir, { recursive: true, force: true });
  }
}

/** Temporary folders of one test file, all removed by `removeAll()` (call it in afterAll). */
export function temporaryFolders(): { make(prefix: string): string; removeAll(): void } {
  let root: string | undefined;
  let count = 0;
  return {
    make(prefix) {
      root ??= mkdtempSync(join(tmpdir(), 'edge-relay-deploy-'));
      const dir = join(root, `${prefix}-${count++}`);
      mkdirSync(dir);
      return dir;
    },
    removeAll() {
      if (root) rmSync(root, { recursive: true, force: true });
      root = undefined;
    },
  };
}

/** Extracts a zip into `dir` and lists its entries. */
export function unzip(zipPath: string, dir: string): Promise<string[]> {
  return new Promise((resolvePromise, reject) => {
    yauzl.open(zipPath, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const names: string[] = [];
      zip.on('entry', (entry: yauzl.Entry) => {
        names.push(entry.fileName);
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError || !stream) return reject(streamError);
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => {
            const target = join(dir, entry.fileName);
            mkdirSync(dirname(target), { recursive: true });
            writeFileSync(target, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolvePromise(names));
      zip.readEntry();
    });
  });
}
