// The replica and the proxy as one ESM file each (esbuild), so the container image needs
// nothing but `node`, and the live runner starts the proxy without compiling TypeScript.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BUNDLE_DIR = '.build/app';
const ENTRIES = { server: 'server/cli.ts', proxy: 'live/proxy/cli.ts' } as const;

export async function buildBundles(): Promise<string[]> {
  return Promise.all(Object.keys(ENTRIES).map((name) => buildBundle(name as keyof typeof ENTRIES, `${ROOT}${BUNDLE_DIR}/${name}.mjs`)));
}

/** Bundles one entry point into `outfile` (about a second); returns `outfile`. */
export async function buildBundle(name: keyof typeof ENTRIES, outfile: string): Promise<string> {
  await build({
    entryPoints: [`${ROOT}${ENTRIES[name]}`],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'silent',
    // CommonJS dependencies call require() for Node built-ins.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  return outfile;
}
