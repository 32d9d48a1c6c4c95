// The files of a planned run that both engines write the same way: where they go, the
// per-run result writer, and the index summary.json of a sweep or a variant list.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ExperimentPlan, type PlannedRun, initialServerIds, timelineBucketMs } from './schema.ts';
import { RESULT_FILES, ResultWriter } from './results.ts';
import type { RunSummary } from './summary.ts';
import { type ProxyName, modeFolder } from './proxies.ts';

export interface RunResult {
  run: PlannedRun;
  summary: RunSummary;
  eventsHandled: number;
}

/**
 * Where `npm run sim` and `npm run live` write: runs/<name>/<mode folder> (git-ignored scratch)
 * unless `update`, then reports/<name>/<mode folder>, the committed results the reports are
 * drawn from. The mode folder is sim or live for Fulcrum's proxy, sim-haproxy … for another.
 */
export function defaultOutDir(plan: Pick<ExperimentPlan, 'name'>, mode: 'sim' | 'live', update = false, proxy: ProxyName = 'fulcrum'): string {
  return join(update ? 'reports' : 'runs', plan.name, modeFolder(mode, proxy));
}

/** The result writer of one planned run, in either engine's mode folder. */
export function openRunWriter(
  plan: Pick<ExperimentPlan, 'name'>, run: PlannedRun, mode: 'sim' | 'live', opts: { outDir: string; writeRequests: boolean; proxy?: ProxyName },
): Promise<ResultWriter> {
  const cfg = run.config;
  return ResultWriter.open({
    dir: join(opts.outDir, run.dir),
    meta: { experiment: plan.name, mode, proxy: opts.proxy, variant: run.variant?.name, seed: cfg.seed, policy: cfg.balancer.policy },
    serverIds: initialServerIds(cfg),
    bucketMs: timelineBucketMs(cfg),
    writeRequests: opts.writeRequests,
  });
}

/** The index summary.json of a sweep (per variant too) and of a variant list; both engines write it. */
export async function writeIndexes(
  plan: ExperimentPlan, results: ReadonlyArray<Pick<RunResult, 'run' | 'summary'>>, outDir: string, mode: 'sim' | 'live',
  proxy: ProxyName = 'fulcrum',
): Promise<void> {
  const head = { experiment: plan.name, mode, ...(proxy !== 'fulcrum' ? { proxy } : {}) };
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
function pointFields(s: RunSummary): Omit<RunSummary, 'experiment' | 'mode' | 'proxy' | 'variant'> {
  const { experiment: _e, mode: _m, proxy: _p, variant: _v, ...rest } = s;
  return rest;
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}
