// npm run sim:check [-- NAME ...] [--keep DIR]
// Re-runs every experiment in experiments/ in the simulator into a scratch folder and
// compares each committed result file under reports/<name>/sim with the fresh one, byte for
// byte. A refactor that claims "behaviour unchanged" must pass this; a fix that changes
// results must explain every file listed here.
// Exit codes: 0 identical, 1 some file differs or is missing, 2 bad arguments.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadExperiment } from '../experiments/schema.ts';
import { defaultOutDir } from '../experiments/run-files.ts';
import { runPlan } from './run.ts';

const EXPERIMENTS_DIR = 'experiments';

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, allowPositionals: true, options: { keep: { type: 'string' } } });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\nusage: npm run sim:check [-- NAME ...] [--keep DIR]\n`);
    return 2;
  }
  const all = (await readdir(EXPERIMENTS_DIR)).filter((f) => f.endsWith('.json')).sort();
  const wanted = args.positionals.length > 0 ? args.positionals : all.map((f) => basename(f, '.json'));
  const unknown = wanted.filter((n) => !all.includes(`${n}.json`));
  if (unknown.length > 0) {
    process.stderr.write(`unknown experiment ${unknown.join(', ')}; expected one of ${all.map((f) => basename(f, '.json')).join(', ')}\n`);
    return 2;
  }
  const scratch = args.values.keep ?? await mkdtemp(join(tmpdir(), 'fulcrum-sim-check-'));
  const differing: string[] = [];
  let compared = 0;
  try {
    for (const name of wanted) {
      const plan = await loadExperiment(join(EXPERIMENTS_DIR, `${name}.json`));
      const fresh = join(scratch, name);
      const started = performance.now();
      await runPlan(plan, { outDir: fresh, writeRequests: false });
      const committed = defaultOutDir(plan, 'sim', true);
      const files = committedFiles(committed);
      const bad: string[] = [];
      for (const rel of files) {
        const want = await readFile(join(committed, rel));
        const got = await readFile(join(fresh, rel)).catch(() => undefined);
        if (!got || !want.equals(got)) bad.push(join(committed, rel) + (got ? '' : ' (not written)'));
      }
      compared += files.length;
      differing.push(...bad);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      process.stdout.write(`${name}: ${files.length - bad.length}/${files.length} identical (${seconds} s)\n`);
      for (const b of bad) process.stdout.write(`  differs: ${b}\n`);
    }
  } finally {
    if (!args.values.keep) await rm(scratch, { recursive: true, force: true });
  }
  process.stdout.write(differing.length === 0
    ? `all ${compared} committed sim result files are byte-identical\n`
    : `${differing.length} of ${compared} committed sim result files differ${args.values.keep ? `; fresh results in ${scratch}` : ' (--keep DIR to inspect)'}\n`);
  return differing.length === 0 ? 0 : 1;
}

/** The result files git tracks under `dir`, relative to it (the committed baseline). */
function committedFiles(dir: string): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--', dir], { encoding: 'utf8' });
  return out.split('\0').filter(Boolean).map((p) => p.slice(dir.length + 1)).sort();
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => { process.stderr.write(`${(e as Error).stack ?? String(e)}\n`); process.exitCode = 1; },
);
