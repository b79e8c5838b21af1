import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type Browser, chromium } from 'playwright-core';

/**
 * The browser the browser tests drive, found without apt-get, root or a download:
 * 1. `BROWSER_PATH`, when set: any Chrome or Chromium binary;
 * 2. on Linux x64, the Chromium that the npm package @sparticuz/chromium ships, unpacked once into
 *    node_modules/.cache, with the NSS and expat libraries the package ships beside it (so only glibc >= 2.34
 *    is needed from the system);
 * 3. elsewhere (macOS, Linux arm64, which that package has no binary for), a Chrome or Chromium installed in
 *    the usual places.
 */
export interface BrowserChoice {
  executablePath: string;
  /** Extra environment for the browser process. */
  env: Record<string, string>;
  /** Says where the browser came from, for messages. */
  source: string;
}

/** No browser found, or it did not start; the message says what was tried and how to point at another. */
export class BrowserUnavailableError extends Error {
  override name = 'BrowserUnavailableError';
}

// Headless Chrome flags for a test runner: no sandbox (root in containers), no GPU, nothing phoning home;
// /dev/shm is 64 MB in Docker, too small for Chromium, so shared memory goes to the temp dir instead.
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const INSTALLED_BROWSERS: Partial<Record<NodeJS.Platform, string[]>> = {
  darwin: [
    ...['/Applications', join(homedir(), 'Applications')].flatMap((apps) => [
      `${apps}/Google Chrome.app/Contents/MacOS/Google Chrome`,
      `${apps}/Chromium.app/Contents/MacOS/Chromium`,
      `${apps}/Microsoft Edge.app/Contents/MacOS/Microsoft Edge`,
    ]),
  ],
  linux: ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/snap/bin/chromium'],
};

/** Launches the test browser headless; fails with a BrowserUnavailableError naming BROWSER_PATH when there is none. */
export async function launchTestBrowser(env: NodeJS.ProcessEnv = process.env): Promise<Browser> {
  const choice = await findBrowser(env);
  try {
    return await chromium.launch({
      executablePath: choice.executablePath,
      headless: true,
      args: ARGS,
      env: { ...env, ...choice.env },
    });
  } catch (error) {
    throw new BrowserUnavailableError(
      `${choice.source} did not start; set BROWSER_PATH to another Chrome or Chromium`,
      {
        cause: error,
      },
    );
  }
}

/** Picks the browser as described on {@link BrowserChoice}. */
async function findBrowser(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
): Promise<BrowserChoice> {
  if (env.BROWSER_PATH) {
    // Checked here: Playwright would leave its temp folders behind for a path that does not exist.
    if (!existsSync(env.BROWSER_PATH))
      throw new BrowserUnavailableError(`BROWSER_PATH=${env.BROWSER_PATH} does not exist`);
    return { executablePath: env.BROWSER_PATH, env: {}, source: `BROWSER_PATH=${env.BROWSER_PATH}` };
  }
  if (platform === 'linux' && arch === 'x64') return unpackSparticuzChromium(env);
  const candidates = INSTALLED_BROWSERS[platform] ?? [];
  const found = candidates.find((path) => existsSync(path));
  if (found) return { executablePath: found, env: {}, source: found };
  throw new BrowserUnavailableError(
    `no browser for the browser tests on ${platform}-${arch}: @sparticuz/chromium ships Linux x64 only, ` +
      `and none of ${candidates.join(', ') || 'the usual install paths'} exists; ` +
      'set BROWSER_PATH to a Chrome or Chromium binary',
  );
}

/**
 * Unpacks @sparticuz/chromium's Brotli archives once per package version, atomically (into a scratch folder,
 * renamed when complete), so an interrupted run or a parallel one never leaves a half-written browser.
 */
async function unpackSparticuzChromium(env: NodeJS.ProcessEnv): Promise<BrowserChoice> {
  const packageDir = sparticuzPackageDir();
  const { version } = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as { version: string };
  // <project>/node_modules/.cache, the usual home of tools' caches; `npm ci` starts it afresh.
  const dir = resolve(packageDir, '../../.cache', `sparticuz-chromium-${version}`);
  if (!existsSync(dir)) {
    const scratch = `${dir}.partial-${process.pid}`;
    await rm(scratch, { recursive: true, force: true });
    await mkdir(scratch, { recursive: true });
    try {
      await unpackInto(scratch, resolve(packageDir, '../../..'));
      await writeFile(join(scratch, 'fonts.conf'), fontConfig(dir));
      await rename(scratch, dir).catch((error: NodeJS.ErrnoException) => {
        // Another run finished first: use its copy.
        if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
      });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  return {
    executablePath: join(dir, 'chromium'),
    env: {
      // The binary links libnss3, libnspr4 and libexpat, which slim images lack; the package ships them.
      LD_LIBRARY_PATH: [join(dir, 'al2023', 'lib'), env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
      FONTCONFIG_FILE: join(dir, 'fonts.conf'),
    },
    source: `@sparticuz/chromium ${version} (${dir})`,
  };
}

/** node_modules/@sparticuz/chromium, wherever its entry module sits inside it (build/ or build/esm/). */
function sparticuzPackageDir(): string {
  let dir = dirname(createRequire(import.meta.url).resolve('@sparticuz/chromium'));
  while (!existsSync(join(dir, 'package.json')) || basename(dir) !== 'chromium') dir = dirname(dir);
  return dir;
}

/**
 * The package unpacks into os.tmpdir() (Lambda's /tmp): a child process with TMPDIR at the scratch folder
 * keeps that out of the shared temp dir and out of this process's environment. Lambda's AWS_EXECUTION_ENV
 * makes it unpack the libraries it ships for Amazon Linux 2023 too (al2023/lib), which the binary needs
 * wherever the system lacks them.
 */
async function unpackInto(scratch: string, projectDir: string): Promise<void> {
  const script = "const { default: chromium } = await import('@sparticuz/chromium'); await chromium.executablePath();";
  await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    cwd: projectDir,
    env: { ...process.env, TMPDIR: scratch, AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x' },
  });
}

/** The system's fonts when it has a fontconfig set-up, and the package's Open Sans in any case. */
function fontConfig(dir: string): string {
  return `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <dir>${join(dir, 'fonts', 'fonts')}</dir>
  <cachedir>${join(dir, 'fonts-cache')}</cachedir>
</fontconfig>
`;
}
