// The replica as one ESM file (esbuild), so the container image needs nothing but `node`.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BUNDLE_DIR = '.build/server';

export async function buildServerBundle(): Promise<string> {
  const outfile = `${ROOT}${BUNDLE_DIR}/server.mjs`;
  await build({
    entryPoints: [`${ROOT}server/cli.ts`],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'error',
    // CommonJS dependencies call require() for Node built-ins.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  return outfile;
}
