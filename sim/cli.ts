// npm run sim -- FILE [--validate] [--out DIR | --update] [--no-requests] [--seed N] [--jobs N] [--quiet]
// Exit codes: 0 done, 2 invalid experiment or arguments (nothing written), 1 anything else.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import { DEFAULT_EXPERIMENT, parseSeedFlag } from '../experiments/cli-shared.ts';
import { ExperimentError, loadExperiment } from '../experiments/schema.ts';
import { defaultOutDir } from '../experiments/run-files.ts';
import { proxyProblems, runPlan } from './run.ts';
import { parseProxyFlag } from '../experiments/proxies.ts';
import { summaryTable } from '../experiments/table.ts';

const USAGE = `usage: npm run sim -- FILE [options]

  FILE             experiment file (JSON), e.g. experiments/a3.json; without one, the
                   built-in default: the original A-1 (experiments/a1.json)
  --validate       only check the file (and every sweep point and variant); write nothing
  --out DIR        write results to DIR instead of runs/<name>/sim (git-ignored)
  --update         write to reports/<name>/sim (sim-<proxy>): replace the committed results
                   (then npm run report redraws reports/<name>/)
  --no-requests    skip requests.csv (one row per request)
  --trace          also write trace.jsonl: every request's decisions (picks with
                   candidates and skip reasons, outcomes, retries, failures)
  --proxy NAME     whose behaviour to predict: fulcrum (default), haproxy, nginx or
                   caddy (models of HAProxy 2.6, NGINX 1.22, Caddy 2.6; results in
                   runs/<name>/sim-<proxy>). Settings the proxy cannot express are
                   listed and nothing runs (exit 2)
  --seed N         replace the file's seed
  --jobs N         run sweep points and variants on N worker threads (default: the
                   number of cores, here ${availableParallelism()}); the files are the same for any N.
                   Each thread gets at least ~100 k requests of work; smaller plans run in this thread
  --quiet          no progress bar, no table
  --help           this text`;

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        validate: { type: 'boolean', default: false },
        out: { type: 'string' },
        update: { type: 'boolean', default: false },
        'no-requests': { type: 'boolean', default: false },
        trace: { type: 'boolean', default: false },
        seed: { type: 'string' },
        jobs: { type: 'string' },
        proxy: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = args;
  if (values.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  if (positionals.length > 1) {
    process.stderr.write(`expected one experiment file, got ${positionals.length}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.out !== undefined && values.update) { process.stderr.write('--out and --update: give one (--update writes to reports/<name>/sim)\n'); return 2; }
  const { seed, error: seedError } = parseSeedFlag(values.seed);
  if (seedError) { process.stderr.write(`${seedError}\n`); return 2; }
  const parsedProxy = parseProxyFlag('--proxy', values.proxy);
  if (parsedProxy.error !== undefined) { process.stderr.write(`${parsedProxy.error}\n`); return 2; }
  const proxy = parsedProxy.proxy;
  const jobs = values.jobs === undefined ? availableParallelism() : Number(values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) { process.stderr.write(`--jobs: expected a whole number of worker threads (1 or more), got ${values.jobs}\n`); return 2; }

  const file = positionals[0] ?? DEFAULT_EXPERIMENT;
  if (!positionals[0] && !values.quiet) process.stdout.write(`no experiment file given: running the default, ${DEFAULT_EXPERIMENT}\n`);
  let plan;
  try {
    plan = await loadExperiment(file, { seed, proxy }); // network.calibration: true reads this proxy's file
  } catch (e) {
    if (e instanceof ExperimentError) { process.stderr.write(`${e.message}\n`); return 2; }
    throw e;
  }
  const problems = proxyProblems(plan, proxy);
  if (problems.length) {
    process.stderr.write(`${file} cannot run on ${proxy}:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    return 2;
  }
  if (values.validate) {
    process.stdout.write(`${file}: valid (${plan.runs.length} run${plan.runs.length === 1 ? '' : 's'})\n`);
    return 0;
  }

  const outDir = values.out ?? defaultOutDir(plan, 'sim', values.update, proxy);
  const progress = !values.quiet && process.stderr.isTTY ? progressBar(plan.runs.length) : undefined;
  const seeds = [...new Set(plan.runs.map((r) => r.config.seed))].join(', ');
  let results;
  try {
    results = await runPlan(plan, { outDir, writeRequests: !values['no-requests'], writeTrace: values.trace, onProgress: progress?.update, proxy, jobs });
  } catch (e) {
    progress?.clear();
    process.stderr.write(`run failed (seed ${seeds}; replay with the same file and seed)\n`);
    throw e;
  }
  progress?.clear();
  if (!values.quiet) {
    process.stdout.write(`${summaryTable(results)}\n\n`);
    process.stdout.write(`seed ${seeds}; results in ${outDir}\n`);
  }
  return 0;
}

/** One line on stderr for the whole plan, only drawn when stderr is a terminal. */
function progressBar(runs: number): { update: (progress: { runsDone: number; share: number }) => void; clear: () => void } {
  let lastDrawn = '';
  const width = 30;
  return {
    update({ runsDone, share }) {
      const filled = Math.round(share * width);
      const text = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}%`
        + (runs > 1 ? `  ${runsDone}/${runs} runs done` : '');
      if (text === lastDrawn) return;
      lastDrawn = text;
      process.stderr.write(`\r${text}\x1b[K`);
    },
    clear() { if (lastDrawn) process.stderr.write('\r\x1b[K'); },
  };
}

// On a worker thread this file is only loaded as part of the CLI bundle (sim/parallel.ts).
if (isMainThread) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (e: unknown) => { process.stderr.write(`${(e as Error).stack ?? String(e)}\n`); process.exitCode = 1; },
  );
}
