// Runs a validated plan: every sweep point and variant as a full simulation, each into its
// own folder, plus the index summary.json a sweep or a variant list gets on top.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { join } from 'node:path';
import { type ExperimentPlan, type PlannedRun, initialServerIds, timelineBucketMs } from './experiment.ts';
import { Simulation } from './model/simulation.ts';
import { RESULT_FILES, ResultWriter } from './results.ts';
import type { RunSummary } from './summary.ts';

export interface RunOptions {
  /** The mode folder: runs/<name>/sim by default. */
  outDir: string;
  writeRequests: boolean;
  /** Write each request's decision trace (core `Decision`s) to trace.jsonl in the run folder. */
  writeTrace?: boolean;
  /** Called between slices of events with the share done (0..1) of the current run. */
  onProgress?: (run: PlannedRun, index: number, doneShare: number) => void;
}

export interface RunResult {
  run: PlannedRun;
  summary: RunSummary;
  eventsHandled: number;
}

/** Events per slice between looks at the output streams and the progress bar. */
const SLICE_EVENTS = 200_000;

/** One JSON line per request: `{"id":…,"decisions":[…]}`, the core's Decision records. */
export const TRACE_FILE = 'trace.jsonl';

/**
 * runs/<name>/sim (git-ignored scratch) unless `update`: then reports/<name>/sim, the
 * committed results the reports are drawn from, so rerunning an experiment never rewrites them by accident.
 */
export function defaultOutDir(plan: Pick<ExperimentPlan, 'name'>, update = false): string {
  return join(update ? 'reports' : 'runs', plan.name, 'sim');
}

export async function runPlan(plan: ExperimentPlan, opts: RunOptions): Promise<RunResult[]> {
  const results: RunResult[] = [];
  for (const [index, run] of plan.runs.entries()) {
    results.push(await runOne(plan, run, opts, (share) => opts.onProgress?.(run, index, share)));
  }
  await writeIndexes(plan, results, opts.outDir, 'sim');
  return results;
}

export async function runOne(
  plan: Pick<ExperimentPlan, 'name'>, run: PlannedRun, opts: RunOptions, onProgress?: (share: number) => void,
): Promise<RunResult> {
  const cfg = run.config;
  const writer = await openRunWriter(plan, run, 'sim', opts);
  const trace = opts.writeTrace ? createWriteStream(join(opts.outDir, run.dir, TRACE_FILE)) : undefined;
  const sim = new Simulation(cfg, writer, trace && ((id, decisions) => { trace.write(`${JSON.stringify({ id, decisions })}\n`); }));
  const w = cfg.workload;
  while (!sim.step(SLICE_EVENTS)) {
    if (writer.backpressured) await writer.drain();
    if (trace?.writableNeedDrain) await once(trace, 'drain');
    if (onProgress) {
      const byCount = w.requests ? sim.finished / w.requests : 0;
      const byTime = w.durationMs ? sim.nowMs / w.durationMs : 0;
      onProgress(Math.min(1, Math.max(byCount, byTime)));
    }
  }
  const summary = await writer.close({ atMs: sim.nowMs, servers: sim.snapshot() });
  if (trace) { trace.end(); await finished(trace); }
  return { run, summary, eventsHandled: sim.eventsHandled };
}

/** The result writer of one planned run, in either engine's mode folder. */
export function openRunWriter(
  plan: Pick<ExperimentPlan, 'name'>, run: PlannedRun, mode: 'sim' | 'live', opts: { outDir: string; writeRequests: boolean },
): Promise<ResultWriter> {
  const cfg = run.config;
  return ResultWriter.open({
    dir: join(opts.outDir, run.dir),
    meta: { experiment: plan.name, mode, variant: run.variant?.name, seed: cfg.seed, policy: cfg.balancer.policy },
    serverIds: initialServerIds(cfg),
    bucketMs: timelineBucketMs(cfg),
    writeRequests: opts.writeRequests,
  });
}

/** The index summary.json of a sweep (per variant too) and of a variant list; both engines write it. */
export async function writeIndexes(
  plan: ExperimentPlan, results: ReadonlyArray<Pick<RunResult, 'run' | 'summary'>>, outDir: string, mode: 'sim' | 'live',
): Promise<void> {
  const head = { experiment: plan.name, mode };
  const sweepOf = (rs: ReadonlyArray<Pick<RunResult, 'run' | 'summary'>>) => ({
    path: plan.sweep!.path,
    points: rs.map((r) => ({ value: r.run.sweepValue, ...pointFields(r.summary) })),
  });
  if (!plan.variants) {
    if (plan.sweep) await writeJson(join(outDir, RESULT_FILES.summary), { ...head, sweep: sweepOf(results) });
    return;
  }
  const variants = [];
  for (const v of plan.variants) {
    const mine = results.filter((r) => r.run.variant?.name === v.name);
    if (plan.sweep) {
      const sweep = sweepOf(mine);
      await writeJson(join(outDir, v.name, RESULT_FILES.summary), { ...head, variant: v.name, sweep });
      variants.push({ name: v.name, description: v.description, sweep });
    } else {
      variants.push({ name: v.name, description: v.description, ...pointFields(mine[0].summary) });
    }
  }
  await writeJson(join(outDir, RESULT_FILES.summary), { ...head, variants });
}

/** A run's summary without the fields its index already states. */
function pointFields(s: RunSummary): Omit<RunSummary, 'experiment' | 'mode' | 'variant'> {
  const { experiment: _e, mode: _m, variant: _v, ...rest } = s;
  return rest;
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}
