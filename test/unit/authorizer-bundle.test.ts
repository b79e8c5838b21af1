import { resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** Every handshake waits for the authorizer's cold start: what its bundle carries, as packaging builds it. */
describe('the authorizer bundle', () => {
  it('carries jose and the logger, not the relay settings, the SDK, the store or the sender', async () => {
    const { metafile } = await build({
      entryPoints: [resolve(ROOT, 'src/aws/handlers/authorize.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      minify: true,
      write: false,
      metafile: true,
      outdir: 'unused',
      logLevel: 'silent',
    });
    const output = Object.values(metafile.outputs)[0]!;
    const carried = Object.entries(output.inputs)
      .filter(([, input]) => input.bytesInOutput > 0)
      .map(([file]) => file);

    expect(carried.some((file) => file.startsWith('node_modules/jose/'))).toBe(true);
    expect(
      carried.filter((file) =>
        /src\/aws\/(config|partitions|dynamo|clients|signed-http|management-sender)|@aws-sdk|@smithy|undici|aws4/.test(
          file,
        ),
      ),
    ).toEqual([]);
    // About 48 KB minified today (jose's JWS/JWKS parts and Powertools' logger).
    expect(output.bytes).toBeLessThan(80 * 1024);
  });
});
