// The replica and the proxy as one ESM file each (esbuild), so the container image needs
// nothing but `node`.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BUNDLE_DIR = '.build/app';
const ENTRIES = { server: 'server/cli.ts', proxy: 'live/proxy/cli.ts' } as const;

export async function buildBundles(): Promise<string[]> {
  return Promise.all(Object.entries(ENTRIES).map(async ([name, entry]) => {
    const outfile = `${ROOT}${BUNDLE_DIR}/${name}.mjs`;
    await build({
      entryPoints: [`${ROOT}${entry}`],
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
  }));
}
