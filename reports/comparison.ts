// The numbers the four-proxy comparison page needs from one experiment, per proxy and run:
// what the simulator predicted, what the real proxy measured, and the agreed tolerance checks
// (tolerance.ts). Written into each experiment's report.json, so the comparison page is built
// from the manifests like the index, whichever experiments this `npm run report` rebuilt.
import type { ProxyName } from '../experiments/proxies.ts';
import { type Derived, clientsMovedOf, roundTo } from './derive.ts';
import { type ExperimentResults, type Mode, type RunResult, keyLabel, runOf } from './model.ts';
import { sortNatural } from './sort.ts';
import { toleranceRows } from './tolerance.ts';

/** One engine's numbers for one run. */
export interface EngineNumbers {
  requests: number;
  failed: number;
  retries: number;
  /** Attempts per server, servers in natural order. */
  servers: Array<[string, number]>;
  maxOverMean: number | null;
  /** Share of clients seen more than once whose requests all went to one server (1 − clients moved). */
  stayed: number | null;
  /**
   * From the timeline: the share of attempts that went to the busiest server of their time
   * bucket, and those servers in time order (s3, then s1 after a reload). Near 1 means one
   * server at a time took everything; null without a timeline.
   */
  busiest: { share: number; servers: string[] } | null;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
}

export type CheckName = 'counts' | 'failed' | 'latency mean';

/** One agreed tolerance applied to one run: live against sim. */
export interface Check {
  check: CheckName;
  /** "exact", "±20 %", "±10 %". */
  tolerance: string;
  within: boolean;
  /** The largest |relative error| among the check's rows, signed; null when sim is 0 and live is not. */
  relErrorPct: number | null;
}

export interface CompareRun {
  proxy: ProxyName;
  run: string;
  /** The experiment's policy for the run (summary.json "policy"), in Fulcrum's vocabulary. */
  policy: string;
  /** The proxy's own name for the run's balancing (HAProxy `leastconn`); null for Fulcrum's or when unknown. */
  balance: string | null;
  sim: EngineNumbers | null;
  live: EngineNumbers | null;
  /** Empty unless both engines ran. */
  checks: Check[];
}

function numbersOf(r: RunResult | undefined): EngineNumbers | null {
  if (!r) return null;
  const s = r.summary;
  const moved = clientsMovedOf(r);
  const counts = new Map(r.servers.map((x) => [x.server, x.requests]));
  return {
    requests: s.requests.total,
    failed: s.requests.failed,
    retries: s.requests.retries,
    servers: sortNatural(counts.keys()).map((id) => [id, counts.get(id)!]),
    maxOverMean: s.fairness.maxOverMean === null ? null : roundTo(s.fairness.maxOverMean, 6),
    stayed: moved === null ? null : roundTo(1 - moved, 6),
    busiest: busiestOf(r),
    meanMs: roundTo(s.latencyMs.mean, 3),
    p50Ms: roundTo(s.latencyMs.p50, 3),
    p99Ms: roundTo(s.latencyMs.p99, 3),
  };
}

function busiestOf(r: RunResult): EngineNumbers['busiest'] {
  if (!r.timeline) return null;
  const buckets = new Map<number, Array<{ server: string; requests: number }>>();
  for (const t of r.timeline.rows) buckets.set(t.tMs, [...(buckets.get(t.tMs) ?? []), t]);
  let total = 0;
  let top = 0;
  const servers: string[] = [];
  for (const tMs of [...buckets.keys()].sort((a, b) => a - b)) {
    const rows = buckets.get(tMs)!;
    const best = rows.reduce((a, b) => (b.requests > a.requests ? b : a));
    total += rows.reduce((a, b) => a + b.requests, 0);
    top += best.requests;
    if (best.requests > 0 && servers[servers.length - 1] !== best.server) servers.push(best.server);
  }
  return total === 0 ? null : { share: roundTo(top / total, 6), servers };
}

/** The checks of one run: per-server counts folded into one ("counts", all exact or not). */
function checksOf(d: Pick<Derived, 'fidelity' | 'runs'>, run: string): Check[] {
  const rows = toleranceRows(d).filter((r) => r.run === run && r.within !== null);
  const out: Check[] = [];
  const add = (check: CheckName, mine: typeof rows): void => {
    if (mine.length === 0) return;
    const worst = mine.reduce((w, r) => (r.relErrorPct === null || (w.relErrorPct !== null && Math.abs(r.relErrorPct) > Math.abs(w.relErrorPct)) ? r : w));
    out.push({ check, tolerance: mine[0].tolerance, within: mine.every((r) => r.within), relErrorPct: worst.relErrorPct });
  };
  add('counts', rows.filter((r) => r.metric.startsWith('attempts ')));
  add('failed', rows.filter((r) => r.metric === 'failed'));
  add('latency mean', rows.filter((r) => r.metric === 'latency mean'));
  return out;
}

/** Every run of one proxy's results, in the experiment's order. */
export function compareRuns(e: ExperimentResults, d: Pick<Derived, 'fidelity' | 'runs'>): CompareRun[] {
  return e.keys.map((k) => {
    const run = keyLabel(k) || 'run';
    const [sim, live] = (['sim', 'live'] as const satisfies readonly Mode[]).map((m) => runOf(e, k, m));
    return {
      proxy: e.proxy,
      run,
      policy: (sim ?? live)?.summary.policy ?? '',
      balance: e.balance.get(k.dir) ?? null,
      sim: numbersOf(sim),
      live: numbersOf(live),
      checks: sim && live ? checksOf(d, run) : [],
    };
  });
}
