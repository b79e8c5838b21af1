import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import yauzl from 'yauzl';

export const ROOT = resolve(import.meta.dirname, '../..');

/** Runs the real `serverless package` (the pinned osls) offline, with fake credentials. */
export function runServerlessPackage(stage: string, region: string): { output: string; template: any } {
  const command = [join(ROOT, 'node_modules/.bin/serverless'), 'package', '--stage', stage, '--region', region];
  // Without a network where the machine allows it: packaging must not need one.
  const offline = spawnSync('unshare', ['-n', 'true']).status === 0;
  const [file, ...args] = offline ? ['unshare', '-n', ...command] : command;
  const run = spawnSync(file!, args, {
    cwd: ROOT,
    encoding: 'utf8',
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE',
      AWS_SECRET_ACCESS_KEY: 'fake',
      AWS_SESSION_TOKEN: '',
      AWS_PROFILE: '',
    },
  });
  // The framework logs to stderr.
  const output = `${run.stdout}${run.stderr}`;
  if (run.status !== 0) throw new Error(`serverless package failed (${run.status}):\n${output}`);
  const template = JSON.parse(
    readFileSync(join(ROOT, '.serverless/cloudformation-template-update-stack.json'), 'utf8'),
  );
  return { output, template };
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
