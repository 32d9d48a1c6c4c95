// Runs a validated plan: every sweep point and variant as a full simulation, each into its
// own folder (in order, or on worker threads with `jobs`), plus the index summary.json a
// sweep or a variant list gets on top.
import type { ExperimentPlan } from '../experiments/schema.ts';
import { type RunResult, writeIndexes } from '../experiments/run-files.ts';
import type { ProxyName } from '../experiments/proxies.ts';
import { proxyModel } from '../experiments/proxies/models.ts';
import { type RunFileOptions, runOne } from './run-one.ts';
import { type RunEvents, runInWorkers, workersFor } from './parallel.ts';

export { TRACE_FILE, runOne } from './run-one.ts';

export interface RunOptions extends RunFileOptions {
  /** Called between slices of events: runs finished so far and the share (0..1) of the whole plan done. */
  onProgress?: (progress: { runsDone: number; share: number }) => void;
  /** At most this many worker threads for a plan of several runs (default 1: in this thread, one after another); see workersFor. */
  jobs?: number;
}

/**
 * Every problem the plan has on `proxy`, one line each, prefixed by the run it comes from
 * (the CLI lists them and exits 2 before anything runs). Empty for Fulcrum.
 */
export function proxyProblems(plan: ExperimentPlan, proxy: ProxyName): string[] {
  const found = proxyModel(proxy);
  if ('problem' in found) return [found.problem];
  return plan.runs.flatMap((run) => found.model.problems(run.config).map((p) => (run.dir ? `${run.dir}: ${p}` : p)));
}

export async function runPlan(plan: ExperimentPlan, opts: RunOptions): Promise<RunResult[]> {
  const { onProgress, jobs = 1, ...files } = opts;
  const shares = new Array<number>(plan.runs.length).fill(0);
  let runsDone = 0;
  const report = (): void => onProgress?.({ runsDone, share: shares.reduce((a, b) => a + b, 0) / plan.runs.length });
  const events: RunEvents = {
    // A run's share stays below 1 until its files are closed.
    progress(index, share) { shares[index] = Math.min(share, 0.99); report(); },
    done(index) { shares[index] = 1; runsDone++; report(); },
  };
  let results: RunResult[];
  const workers = workersFor(plan, jobs);
  if (workers > 1) {
    results = await runInWorkers(plan, files, workers, events);
  } else {
    results = [];
    for (const [index, run] of plan.runs.entries()) {
      results.push(await runOne(plan, run, files, (share) => events.progress(index, share)));
      events.done(index);
    }
  }
  await writeIndexes(plan, results, opts.outDir, 'sim', opts.proxy);
  return results;
}
