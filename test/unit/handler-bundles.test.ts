import { resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** The files a bundler following an entry's imports reaches (as the packaging does: ESM, Node). */
async function reached(entry: string): Promise<string[]> {
  const { metafile } = await build({
    entryPoints: [resolve(ROOT, entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    metafile: true,
    outdir: 'unused',
    logLevel: 'silent',
  });
  return Object.keys(metafile.inputs);
}

/** What only a function that delivers frames needs. */
const DELIVERY =
  /node_modules\/(undici|aws4|@aws-sdk\/client-apigatewaymanagementapi)\/|src\/aws\/(signed-http|management-sender)/;

describe('per-function entries: what each handler bundle carries', () => {
  it('connect reaches the DynamoDB client but not the sender, undici or the Management API client', async () => {
    const files = await reached('src/aws/handlers/connect.ts');

    expect(files.filter((file) => DELIVERY.test(file))).toEqual([]);
    expect(files.some((file) => file.includes('node_modules/@aws-sdk/client-dynamodb/'))).toBe(true);
  });

  // disconnect sends leave events to joinLeave channels.
  it.each(['message', 'disconnect'])('%s reaches the sender, undici and the Management API client', async (name) => {
    const files = await reached(`src/aws/handlers/${name}.ts`);

    for (const part of [
      'node_modules/undici/',
      'node_modules/aws4/',
      'client-apigatewaymanagementapi',
      'signed-http',
    ]) {
      expect(files.some((file) => file.includes(part))).toBe(true);
    }
  });
});
