'use strict';
// Serverless Framework (osls v3) plugin: before packaging, bundles every function with esbuild
// (tools/bundle-functions.ts) and points the function at its zip, so `serverless package` and
// `serverless deploy` ship small, tree-shaken bundles and print each one's size.
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

class EsbuildBundlePlugin {
  constructor(serverless, options, { log } = {}) {
    this.serverless = serverless;
    this.options = options ?? {};
    this.log = log ?? { notice: console.log };
    this.hooks = {
      'before:package:createDeploymentArtifacts': () => this.bundleAll(),
      'before:deploy:function:packageFunction': () => this.bundleAll(),
    };
  }

  bundleAll() {
    const service = this.serverless.service;
    const serviceDir = this.serverless.serviceDir;
    // `deploy function -f name` packages that function only.
    const names = this.options.function ? [this.options.function] : service.getAllFunctions();
    const functions = names.map((name) => {
      const fn = service.getFunction(name);
      return { name, handler: fn.handler, patterns: fn.package?.patterns };
    });
    const request = { serviceDir, outDir: join(serviceDir, '.serverless', 'bundles'), functions };
    // A process of its own: the framework's module hooks and esbuild's service do not mix.
    const output = execFileSync(
      process.execPath,
      ['--import', 'tsx', join(__dirname, 'bundle-cli.ts'), JSON.stringify(request)],
      {
        cwd: serviceDir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    this.log.notice('Bundled with esbuild (zip size, code size, files):');
    for (const report of JSON.parse(output)) {
      const fn = service.getFunction(report.name);
      fn.package = { ...fn.package, artifact: report.zipPath };
      this.log.notice(
        `  ${report.name.padEnd(12)} ${kb(report.zipBytes).padStart(10)}  ${kb(report.codeBytes).padStart(10)}  ${report.files.length}`,
      );
    }
  }
}

function kb(bytes) {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

module.exports = EsbuildBundlePlugin;
