'use strict';
// Serverless Framework (osls v3) plugin, listed after serverless-esbuild. serverless-esbuild 1.57.2
// stages each function's zip in `<os temp dir>/<function>-<pid>-<time>-<random>` and fails to remove
// it (a non-recursive remove of a full folder, its error swallowed: floydspace/serverless-esbuild
// PR #589), so every `serverless package` leaves a copy of every bundle behind. This removes the
// folders this process staged, once packaging is done. Drop it when serverless-esbuild fixes that.
const { readdirSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

class EsbuildZipStagingCleanup {
  constructor(serverless) {
    this.serverless = serverless;
    const cleanup = () => this.removeStagingFolders();
    this.hooks = {
      'after:package:createDeploymentArtifacts': cleanup,
      'after:deploy:function:packageFunction': cleanup,
    };
  }

  removeStagingFolders() {
    const names = new Set(this.serverless.service.getAllFunctions());
    const staging = new RegExp(`^(.+)-${process.pid}-\\d+-[0-9a-f]{8}$`);
    for (const entry of readdirSync(tmpdir(), { withFileTypes: true })) {
      const match = entry.isDirectory() && staging.exec(entry.name);
      if (match && names.has(match[1])) rmSync(join(tmpdir(), entry.name), { recursive: true, force: true });
    }
  }
}

module.exports = EsbuildZipStagingCleanup;
