// A proxy's prediction against its measurement, judged by the tolerances the project agreed
// (docs/results.md, issue 16): per-server counts identical for a deterministic policy, client
// failures within ±20 %, mean latency within ±10 %. Retries, p50 and p99 are shown beside them
// without a verdict: nobody agreed a bound for them, and the ±10 % shading is a reading aid.
import { type Derived, type FidelityRow, roundTo } from './derive.ts';

/**
 * Policies whose picks follow from the request sequence alone (no random draws, no load): same
 * schedule, same per-server counts. Fulcrum's names and the HAProxy, NGINX and Caddy models'.
 */
export const DETERMINISTIC_POLICIES: ReadonlySet<string> = new Set([
  'round-robin', 'weighted-round-robin', 'ip-hash', 'ring-hash', 'maglev', 'rendezvous',
  'haproxy-roundrobin', 'haproxy-static-rr', 'haproxy-first', 'haproxy-source',
  'nginx-round-robin', 'nginx-ip-hash', 'nginx-hash', 'caddy-round-robin', 'caddy-first', 'caddy-ip-hash',
]);

export const FAILED_TOLERANCE_PCT = 20;
export const LATENCY_MEAN_TOLERANCE_PCT = 10;

export interface ToleranceRow {
  run: string;
  metric: string;
  unit: string;
  /** "exact", "±20 %", or "" where none was agreed. */
  tolerance: string;
  sim: number;
  live: number;
  relErrorPct: number | null;
  /** Whether live landed within the tolerance; null without one. */
  within: boolean | null;
}

const SHOWN = ['failed', 'retries', 'latency mean', 'latency p50', 'latency p99'];

/**
 * One proxy's rows, from its fidelity table: per-server attempts, failed, retries, mean, p50, p99.
 * Per-server counts are held to "exact" only for a deterministic policy on a run without
 * failures or retries in the prediction: a fault's timing moves single requests between servers.
 */
export function toleranceRows(d: Pick<Derived, 'fidelity' | 'runs'>): ToleranceRow[] {
  return d.fidelity.flatMap((f): ToleranceRow[] => {
    const server = f.metric.startsWith('attempts ') && f.metric !== 'attempts per request';
    if (!server && !SHOWN.includes(f.metric)) return [];
    const sim = d.runs.find((r) => r.run === f.run && r.mode === 'sim');
    const calm = sim !== undefined && DETERMINISTIC_POLICIES.has(sim.policy) && sim.failed === 0 && sim.retries === 0;
    const [tolerance, within] = server
      ? calm ? ['exact', f.sim === f.live] : ['', null]
      : f.metric === 'failed' ? pct(FAILED_TOLERANCE_PCT, f)
        : f.metric === 'latency mean' ? pct(LATENCY_MEAN_TOLERANCE_PCT, f) : ['', null];
    return [{ run: f.run, metric: f.metric, unit: f.unit, tolerance, sim: f.sim, live: f.live, relErrorPct: f.relErrorPct, within }];
  });
}

/** Within ±bound % of the prediction; a prediction of 0 holds only a measurement of 0. */
function pct(bound: number, f: FidelityRow): [string, boolean] {
  const within = f.relErrorPct === null ? false : Math.abs(roundTo(f.relErrorPct, 3)) <= bound;
  return [`±${bound} %`, within];
}
