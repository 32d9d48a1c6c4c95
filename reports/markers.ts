// Kill, restart and membership-change times from the experiment file, for vertical rules on
// the time charts. Read with the simulator's own parser, so variants and sweep points get the
// faults they actually ran with; keyed by the same run folder the results use.
import { ExperimentError, type RunConfig, loadExperiment } from '../experiments/schema.ts';
import type { Answer } from '../experiments/answer.ts';
import type { Marker } from './model.ts';

export interface ExperimentInfo {
  description: string;
  answer: Answer | null;
  markers: Map<string, Marker[]>;
  /** Each run's validated config, by run folder: what a proxy's own words are read from. */
  configs: Map<string, RunConfig>;
}

/** A file that does not validate gives a warning and no markers: the results still report. */
export async function readExperimentInfo(path: string): Promise<{ info: ExperimentInfo | null; warning?: string }> {
  let plan;
  try {
    plan = await loadExperiment(path);
  } catch (e) {
    if (!(e instanceof ExperimentError)) throw e;
    return { info: null, warning: `${e.message}\n  (no fault markers drawn)` };
  }
  const markers = new Map<string, Marker[]>();
  for (const run of plan.runs) markers.set(run.dir, markersOf(run.config));
  return { info: { description: plan.description, answer: plan.answer ?? null, markers, configs: new Map(plan.runs.map((r) => [r.dir, r.config])) } };
}

export function markersOf(cfg: Pick<RunConfig, 'faults' | 'changes'>): Marker[] {
  const out: Marker[] = [];
  for (const f of cfg.faults) {
    switch (f.kind) {
      case 'crash':
        out.push({ tMs: f.atMs, label: `kill ${f.server}` });
        if (f.restartAfterMs !== undefined) out.push({ tMs: f.atMs + f.restartAfterMs, label: `restart ${f.server}` });
        break;
      case 'hang':
        out.push({ tMs: f.atMs, label: `hang ${f.server}` });
        if (f.durationMs !== undefined) out.push({ tMs: f.atMs + f.durationMs, label: `resume ${f.server}` });
        break;
      case 'slow':
        out.push({ tMs: f.atMs, label: `slow ${f.server} ×${f.factor}` });
        if (f.durationMs !== undefined) out.push({ tMs: f.atMs + f.durationMs, label: `${f.server} normal` });
        break;
      case 'errors':
      case 'reset':
        out.push({ tMs: f.atMs, label: `${f.kind} ${f.server} ${Math.round(f.probability * 100)} %` });
        if (f.durationMs !== undefined) out.push({ tMs: f.atMs + f.durationMs, label: `${f.server} ${f.kind} end` });
        break;
    }
  }
  for (const c of cfg.changes) {
    switch (c.kind) {
      case 'add': out.push({ tMs: c.atMs, label: `add ${c.server}` }); break;
      case 'remove': out.push({ tMs: c.atMs, label: `remove ${c.server}` }); break;
      case 'weight': out.push({ tMs: c.atMs, label: `${c.server} weight ${c.weight}` }); break;
    }
  }
  return out.sort((a, b) => a.tMs - b.tMs || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}
