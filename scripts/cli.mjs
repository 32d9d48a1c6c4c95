// `npm run sim|report|trace|export|live|calibrate`: runs the command from an esbuild bundle in
// .build/cli/ instead of compiling TypeScript on every start (tsx costs ~0.3 s a start).
// The bundle can never be stale: next to it sits a manifest of every source file esbuild read
// (its metafile inputs) with size, mtime and SHA-256. A file whose size or mtime differs is
// hashed; if any content differs (or a file is gone) the bundle is rebuilt first (~0.3 s), so
// a fresh clone, a `git checkout` or an edit needs no extra step. npm packages stay outside
// the bundle (loaded from node_modules as usual), so only the project's own files are checked.
// Plain Node built-ins only, and esbuild when a build is needed.
//   node scripts/cli.mjs NAME [args...]
import { createHash } from 'node:crypto';
import { enableCompileCache } from 'node:module';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = (root) => path.join(root, '.build', 'cli');
const COMPILE_CACHE = 'compile-cache';
export const ENTRIES = {
  sim: 'sim/cli.ts',
  report: 'reports/cli.ts',
  trace: 'experiments/trace/cli.ts',
  export: 'live/export/cli.ts',
  live: 'live/runner/cli.ts',
  calibrate: 'live/calibrate/cli.ts',
};
/**
 * V8 flags every command runs with. TurboFan inlines at most 920 bytecodes into one optimized
 * function by default; the simulator's per-request path is a chain of small monomorphic calls
 * (event loop → server → proxy → Router → Balancer) that outgrows it, and runs ~8 % more
 * requests per second with room for 4,000 (`npm run bench` measures it with these flags).
 * Set before the bundle loads, so they hold for all its code and its worker threads.
 */
export const V8_FLAGS = ['--max-inlined-bytecode-size-cumulative=4000'];
// Inputs besides the sources: this file (the build options) and the compiler settings.
const EXTRA_INPUTS = ['scripts/cli.mjs', 'tsconfig.json', 'package.json'];

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** The bundle's path if the manifest still matches every input's content, else undefined. */
function freshBundle(name, root) {
  let manifest;
  try { manifest = JSON.parse(readFileSync(path.join(outDir(root), `${name}.json`), 'utf8')); } catch { return undefined; }
  for (const [file, seen] of Object.entries(manifest.inputs)) {
    let st;
    try { st = statSync(path.join(root, file)); } catch { return undefined; }
    if (st.size === seen.size && st.mtimeMs === seen.mtimeMs) continue;
    if (st.size !== seen.size || sha256(readFileSync(path.join(root, file))) !== seen.sha256) return undefined;
  }
  return path.join(outDir(root), manifest.bundle);
}

/**
 * `import.meta.url` keeps meaning "this source file" inside the bundle (the code finds data
 * files and the repository root from it); `import.meta.filename` is the running file (the
 * bundle), which is what a worker thread must load.
 */
const sourceUrls = (root) => ({
  name: 'source-urls',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const { transform } = await import('esbuild');
      // A define (not a text replace) so strings that merely mention import.meta.url stay as they are.
      const out = await transform(readFileSync(args.path, 'utf8'), {
        loader: 'ts', format: 'esm', target: 'node24', sourcemap: 'inline', sourcefile: args.path,
        tsconfigRaw: readFileSync(path.join(root, 'tsconfig.json'), 'utf8'),
        define: { 'import.meta.url': JSON.stringify(pathToFileURL(args.path).href) },
      });
      return { contents: out.code, loader: 'js' };
    });
  },
});

/** Bundles one entry, then writes the bundle under its content hash and the manifest naming it. */
async function buildBundle(name, root) {
  const dir = outDir(root);
  const { build } = await import('esbuild');
  const result = await build({
    absWorkingDir: root,
    entryPoints: [ENTRIES[name]],
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node24',
    write: false,
    metafile: true,
    sourcemap: 'inline',
    sourcesContent: false,
    outfile: path.join(dir, `${name}.mjs`),
    logLevel: 'error',
    keepNames: true,
    plugins: [sourceUrls(root)],
  });
  const code = result.outputFiles[0].contents;
  const bundle = `${name}-${sha256(code).slice(0, 12)}.mjs`;
  const inputs = {};
  for (const file of [...Object.keys(result.metafile.inputs), ...EXTRA_INPUTS]) {
    const full = path.join(root, file);
    const st = statSync(full);
    inputs[file] = { size: st.size, mtimeMs: st.mtimeMs, sha256: sha256(readFileSync(full)) };
  }
  mkdirSync(dir, { recursive: true });
  // The compile cache (see below) keeps an entry per bundle file; start it afresh with each new bundle so it stays one bundle's size.
  rmSync(path.join(dir, COMPILE_CACHE), { recursive: true, force: true });
  // Renames are atomic, so a command started meanwhile sees the old or the new pair, never half.
  const tmp = path.join(dir, `.${process.pid}.tmp`);
  writeFileSync(tmp, code);
  renameSync(tmp, path.join(dir, bundle));
  writeFileSync(tmp, JSON.stringify({ bundle, inputs }));
  renameSync(tmp, path.join(dir, `${name}.json`));
  removeOldBundles(dir, name, bundle);
  return path.join(dir, bundle);
}

/** Older bundles of this command, once nothing can still be starting from them (an hour). */
function removeOldBundles(dir, name, keep) {
  for (const file of readdirSync(dir)) {
    if (!file.startsWith(`${name}-`) || file === keep) continue;
    try { if (Date.now() - statSync(path.join(dir, file)).mtimeMs > 3_600_000) unlinkSync(path.join(dir, file)); } catch { /* gone already */ }
  }
}

/** The up-to-date bundle of `name` (a key of ENTRIES) under `root`, built first when any input changed. */
export async function cliBundle(name, root = ROOT) {
  return freshBundle(name, root) ?? buildBundle(name, root);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [name, ...args] = process.argv.slice(2);
  if (!Object.hasOwn(ENTRIES, name ?? '')) {
    process.stderr.write(`scripts/cli.mjs: unknown command ${name ?? '(none)'}; choose from ${Object.keys(ENTRIES).join(', ')}\n`);
    process.exit(2);
  }
  const bundle = await cliBundle(name);
  // First: the compile cache's folder is keyed by the V8 flags, and worker threads start with these.
  for (const flag of V8_FLAGS) setFlagsFromString(flag);
  // V8's compiled code for the bundle and the packages it loads, kept on disk (checked by
  // content hash): each start then skips most of the compiling, ~25-35 ms of ~170-200 ms of
  // CPU, and so does each --jobs worker thread (sim/parallel.ts passes the cache on).
  // Node leaves it off under NODE_DISABLE_COMPILE_CACHE.
  enableCompileCache(path.join(outDir(ROOT), COMPILE_CACHE));
  // The command reads its arguments from process.argv.slice(2), as when started directly.
  process.argv = [process.argv[0], bundle, ...args];
  process.setSourceMapsEnabled(true);
  await import(pathToFileURL(bundle).href);
}
