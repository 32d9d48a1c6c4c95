// npm run sim:check [-- NAME ...] [--keep DIR]
// Re-runs every experiment in experiments/ in the simulator into a scratch folder and
// compares each committed result file under reports/<name>/sim (Fulcrum's proxy) and
// reports/<name>/sim-<proxy> (that proxy's model, as `npm run sim -- --proxy X` runs it) with
// the fresh one, byte for byte (sim/check.ts).
// Exit codes: 0 identical, 1 some file differs or is missing, 2 bad arguments or a committed
// folder that does not say which proxy it holds (one line naming the file).
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { type CheckOptions, CheckInputError, type FolderCheck, checkExperiment } from './check.ts';

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, allowPositionals: true, options: { keep: { type: 'string' } } });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\nusage: npm run sim:check [-- NAME ...] [--keep DIR]\n`);
    return 2;
  }
  const experimentsDir = 'experiments';
  const all = (await readdir(experimentsDir)).filter((f) => f.endsWith('.json')).sort();
  const wanted = args.positionals.length > 0 ? args.positionals : all.map((f) => basename(f, '.json'));
  const unknown = wanted.filter((n) => !all.includes(`${n}.json`));
  if (unknown.length > 0) {
    process.stderr.write(`unknown experiment ${unknown.join(', ')}; expected one of ${all.map((f) => basename(f, '.json')).join(', ')}\n`);
    return 2;
  }
  const scratch = args.values.keep ?? await mkdtemp(join(tmpdir(), 'fulcrum-sim-check-'));
  const opts: CheckOptions = { experimentsDir, reportsDir: 'reports', scratch, say: (s) => process.stdout.write(`${s}\n`) };
  const checks: FolderCheck[] = [];
  try {
    for (const name of wanted) checks.push(...await checkExperiment(name, opts));
  } catch (e) {
    if (!(e instanceof CheckInputError)) throw e;
    process.stderr.write(`sim:check: ${e.message}\n`);
    return 2;
  } finally {
    if (!args.values.keep) await rm(scratch, { recursive: true, force: true });
  }
  const compared = checks.reduce((n, c) => n + c.compared, 0);
  const differing = checks.flatMap((c) => c.differing);
  process.stdout.write(differing.length === 0
    ? `all ${compared} committed sim result files are byte-identical\n`
    : `${differing.length} of ${compared} committed sim result files differ${args.values.keep ? `; fresh results in ${scratch}` : ' (--keep DIR to inspect)'}\n`);
  return differing.length === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => { process.stderr.write(`${(e as Error).stack ?? String(e)}\n`); process.exitCode = 1; },
);
