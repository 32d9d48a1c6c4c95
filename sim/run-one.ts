// One planned run as a full simulation into its own folder: the unit that `npm run sim` runs
// in order, or on worker threads (sim/parallel.ts) with --jobs.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { join } from 'node:path';
import type { ExperimentPlan, PlannedRun } from '../experiments/schema.ts';
import { type RunResult, openRunWriter } from '../experiments/run-files.ts';
import { Simulation } from './model/simulation.ts';
import type { ProxyName } from '../experiments/proxies.ts';
import { type ModelledRun, proxyModel } from '../experiments/proxies/models.ts';

/** Where and what a run writes: plain data, so it can be posted to a worker thread. */
export interface RunFileOptions {
  /** The mode folder: runs/<name>/sim by default. */
  outDir: string;
  writeRequests: boolean;
  /** Write each request's decision trace (core `Decision`s) to trace.jsonl in the run folder. */
  writeTrace?: boolean;
  /** Whose behaviour to predict: Fulcrum's own (default) or a proxy's model (sim-<proxy>/). */
  proxy?: ProxyName;
}

/** One JSON line per request: `{"id":…,"decisions":[…]}`, the core's Decision records. */
export const TRACE_FILE = 'trace.jsonl';

/** Events per slice between looks at the output streams and the progress bar. */
const SLICE_EVENTS = 200_000;

function modelled(run: PlannedRun, proxy: ProxyName): ModelledRun {
  const found = proxyModel(proxy);
  if ('problem' in found) throw new Error(found.problem);
  const problems = found.model.problems(run.config);
  if (problems.length) throw new Error(`${run.dir || 'the run'} cannot run on ${proxy}:\n${problems.join('\n')}`);
  return found.model.run(run.config);
}

export async function runOne(
  plan: Pick<ExperimentPlan, 'name'>, run: PlannedRun, opts: RunFileOptions, onProgress?: (share: number) => void,
): Promise<RunResult> {
  const { config: cfg, rules } = modelled(run, opts.proxy ?? 'fulcrum');
  const writer = await openRunWriter(plan, run, 'sim', opts);
  const trace = opts.writeTrace ? createWriteStream(join(opts.outDir, run.dir, TRACE_FILE)) : undefined;
  const sim = new Simulation(cfg, writer, trace && ((id, decisions) => { trace.write(`${JSON.stringify({ id, decisions })}\n`); }), rules);
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

