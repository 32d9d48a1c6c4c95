// The numbers the report shows, derived from loaded results: per-run and per-server rows,
// the sim-vs-live fidelity table, latency CDFs, the attempts distribution and the time series.
// Pure functions of ExperimentResults; every number is rounded so output bytes are stable.
import { type ExperimentResults, type Mode, type RunKey, type RunResult, keyLabel, runOf } from './model.ts';
import { naturalCompare, sortNatural } from './sort.ts';
import { coveredSec } from './buckets.ts';

export const roundTo = (x: number, digits: number): number => {
  const f = 10 ** digits;
  const r = Math.round(x * f) / f;
  return Object.is(r, -0) ? 0 : r;
};
const ms = (x: number): number => roundTo(x, 3);
const ratio = (x: number): number => roundTo(x, 6);

/** Columns every row that belongs to a run starts with. */
export interface RunColumns {
  run: string;
  variant: string;
  sweepValue: string | number | boolean | null;
  mode: Mode;
}

export function runColumns(r: RunResult): RunColumns {
  return { run: keyLabel(r.key) || 'run', variant: r.key.variant ?? '', sweepValue: sweepValueOf(r.key), mode: r.mode };
}

function sweepValueOf(key: RunKey): RunColumns['sweepValue'] {
  return key.point ? scalarOf(key.point.value) : null;
}

/** A sweep value as a table cell: scalars as they are, anything else as JSON text. */
export function scalarOf(v: unknown): string | number | boolean {
  return typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' ? v : JSON.stringify(v);
}

// ---- per run --------------------------------------------------------------------------

export const successPct = (r: RunResult): number | null =>
  r.summary.requests.total ? roundTo((100 * r.summary.requests.ok) / r.summary.requests.total, 3) : null;

export const attemptsPerRequest = (r: RunResult): number | null =>
  r.summary.requests.total ? ratio(r.summary.requests.attempts / r.summary.requests.total) : null;

export const throughputPerSec = (r: RunResult): number | null =>
  r.summary.durationMs > 0 ? roundTo((r.summary.requests.total * 1000) / r.summary.durationMs, 3) : null;

/** Share of requests whose first attempt went to the server the same client's previous request went to. */
export const stickinessOf = (r: RunResult): number | null => {
  const s = r.requests?.stickiness;
  return s && s.eligible > 0 ? ratio(s.same / s.eligible) : null;
};

/** Share of clients seen more than once whose first attempts did not always go to one server: keys moved. */
export const clientsMovedOf = (r: RunResult): number | null => {
  const s = r.requests?.stickiness;
  return s && s.repeatClients > 0 ? ratio(s.movedClients / s.repeatClients) : null;
};

export interface RunRow extends RunColumns {
  policy: string;
  seed: number | null;
  requests: number;
  ok: number;
  failed: number;
  successPct: number | null;
  attempts: number;
  retries: number;
  attemptsPerRequest: number | null;
  latencyMeanMs: number;
  latencyP50Ms: number;
  latencyP90Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  maxOverMean: number | null;
  jain: number | null;
  stickiness: number | null;
  clientsMoved: number | null;
  durationMs: number;
  throughputPerSec: number | null;
}

export function runRows(e: ExperimentResults): RunRow[] {
  return e.runs.map((r) => {
    const s = r.summary;
    return {
      ...runColumns(r),
      policy: s.policy ?? '',
      seed: s.seed ?? null,
      requests: s.requests.total,
      ok: s.requests.ok,
      failed: s.requests.failed,
      successPct: successPct(r),
      attempts: s.requests.attempts,
      retries: s.requests.retries,
      attemptsPerRequest: attemptsPerRequest(r),
      latencyMeanMs: ms(s.latencyMs.mean),
      latencyP50Ms: ms(s.latencyMs.p50),
      latencyP90Ms: ms(s.latencyMs.p90),
      latencyP99Ms: ms(s.latencyMs.p99),
      latencyMaxMs: ms(s.latencyMs.max),
      maxOverMean: s.fairness.maxOverMean === null ? null : ratio(s.fairness.maxOverMean),
      jain: s.fairness.jain === null ? null : ratio(s.fairness.jain),
      stickiness: stickinessOf(r),
      clientsMoved: clientsMovedOf(r),
      durationMs: ms(s.durationMs),
      throughputPerSec: throughputPerSec(r),
    };
  });
}

export interface ServerShareRow extends RunColumns { server: string; requests: number; ok: number; errors: number; share: number }

export function serverRows(e: ExperimentResults): ServerShareRow[] {
  return e.runs.flatMap((r) => {
    const total = r.servers.reduce((a, s) => a + s.requests, 0);
    return r.servers.map((s) => ({
      ...runColumns(r), server: s.server, requests: s.requests, ok: s.ok, errors: s.errors, share: total ? ratio(s.requests / total) : 0,
    }));
  });
}

/** Every server id seen anywhere in the experiment, numeric-aware order: the colour domain. */
export function allServers(e: ExperimentResults): string[] {
  const ids = new Set<string>();
  for (const r of e.runs) {
    for (const s of r.servers) ids.add(s.server);
    for (const t of r.timeline?.rows ?? []) ids.add(t.server);
  }
  return sortNatural(ids);
}

// ---- fidelity -------------------------------------------------------------------------

/**
 * (live − sim) / |sim|: how far the measurement landed from the prediction, signed, as a
 * fraction of the prediction. 0 when both are 0; null when only sim is 0 (no scale to divide by).
 */
export function relativeError(sim: number, live: number): number | null {
  if (sim === 0) return live === 0 ? 0 : null;
  return (live - sim) / Math.abs(sim);
}

export interface FidelityRow {
  run: string;
  metric: string;
  unit: string;
  sim: number;
  live: number;
  diff: number;
  relErrorPct: number | null;
}

export interface Metric { name: string; unit: string; digits: number; get: (r: RunResult) => number | null }

/** Every metric compared between engines; an experiment's "answer" names one of these. */
export const METRICS: Metric[] = [
  { name: 'requests', unit: 'count', digits: 0, get: (r) => r.summary.requests.total },
  { name: 'ok', unit: 'count', digits: 0, get: (r) => r.summary.requests.ok },
  { name: 'failed', unit: 'count', digits: 0, get: (r) => r.summary.requests.failed },
  { name: 'success rate', unit: '%', digits: 3, get: successPct },
  { name: 'attempts', unit: 'count', digits: 0, get: (r) => r.summary.requests.attempts },
  { name: 'retries', unit: 'count', digits: 0, get: (r) => r.summary.requests.retries },
  { name: 'attempts per request', unit: 'ratio', digits: 6, get: attemptsPerRequest },
  { name: 'throughput', unit: 'req/s', digits: 3, get: throughputPerSec },
  { name: 'latency mean', unit: 'ms', digits: 3, get: (r) => r.summary.latencyMs.mean },
  { name: 'latency p50', unit: 'ms', digits: 3, get: (r) => r.summary.latencyMs.p50 },
  { name: 'latency p90', unit: 'ms', digits: 3, get: (r) => r.summary.latencyMs.p90 },
  { name: 'latency p99', unit: 'ms', digits: 3, get: (r) => r.summary.latencyMs.p99 },
  { name: 'latency max', unit: 'ms', digits: 3, get: (r) => r.summary.latencyMs.max },
  { name: 'max/mean load', unit: 'ratio', digits: 6, get: (r) => r.summary.fairness.maxOverMean },
  { name: 'Jain index', unit: 'ratio', digits: 6, get: (r) => r.summary.fairness.jain },
  { name: 'stickiness', unit: 'ratio', digits: 6, get: stickinessOf },
  { name: 'clients moved', unit: 'ratio', digits: 6, get: clientsMovedOf },
  { name: 'duration', unit: 'ms', digits: 3, get: (r) => r.summary.durationMs },
];

/** One row per metric both runs have, then one per server ("attempts s1"). */
export function fidelityRows(sim: RunResult, live: RunResult): FidelityRow[] {
  const run = keyLabel(sim.key) || 'run';
  const rows: FidelityRow[] = [];
  const add = (metric: string, unit: string, digits: number, s: number | null, l: number | null): void => {
    if (s === null || l === null) return;
    const rel = relativeError(s, l);
    rows.push({
      run, metric, unit, sim: roundTo(s, digits), live: roundTo(l, digits), diff: roundTo(l - s, digits),
      relErrorPct: rel === null ? null : roundTo(rel * 100, 3),
    });
  };
  for (const m of METRICS) add(m.name, m.unit, m.digits, m.get(sim), m.get(live));
  const servers = sortNatural(new Set([...sim.servers, ...live.servers].map((s) => s.server)));
  for (const id of servers) {
    const count = (r: RunResult): number => r.servers.find((s) => s.server === id)?.requests ?? 0;
    add(`attempts ${id}`, 'count', 0, count(sim), count(live));
  }
  return rows;
}

export function allFidelityRows(e: ExperimentResults): FidelityRow[] {
  return e.keys.flatMap((k) => {
    const sim = runOf(e, k, 'sim');
    const live = runOf(e, k, 'live');
    return sim && live ? fidelityRows(sim, live) : [];
  });
}

// ---- distributions --------------------------------------------------------------------

/** Quantiles the CDF is drawn at: every percent, then finer in the tail where policies differ. */
export const CDF_QUANTILES: readonly number[] = [
  ...Array.from({ length: 100 }, (_, i) => i / 100),
  ...Array.from({ length: 9 }, (_, i) => (991 + i) / 1000),
  0.9995, 0.9999, 1,
];

export interface CdfRow extends RunColumns { quantile: number; latencyMs: number }

export function cdfRows(e: ExperimentResults): CdfRow[] {
  return e.runs.flatMap((r) => {
    if (!r.requests || r.requests.latency.count === 0) return [];
    const cols = runColumns(r);
    const values = r.requests.latency.quantilesMs(CDF_QUANTILES);
    return CDF_QUANTILES.map((q, i) => ({ ...cols, quantile: q, latencyMs: ms(values[i]) }));
  });
}

export interface AttemptRow extends RunColumns { attempts: number; requests: number; share: number }

export function attemptRows(e: ExperimentResults): AttemptRow[] {
  return e.runs.flatMap((r) => {
    if (!r.requests || r.requests.count === 0) return [];
    const cols = runColumns(r);
    const total = r.requests.count;
    return [...r.requests.attempts.entries()].sort((a, b) => a[0] - b[0])
      .map(([attempts, n]) => ({ ...cols, attempts, requests: n, share: ratio(n / total) }));
  });
}

// ---- time series ----------------------------------------------------------------------

export interface ServerTimelineRow extends RunColumns {
  tS: number;
  server: string;
  attemptsPerSec: number;
  errorsPerSec: number;
  inFlight: number | null;
  healthy: number | null;
}

export function serverTimelineRows(e: ExperimentResults): ServerTimelineRow[] {
  return e.runs.flatMap((r) => {
    if (!r.timeline) return [];
    const cols = runColumns(r);
    // Re-bucketed to the run's display width: counts add up, in-flight keeps its peak, and a
    // server counts as routable only if it was at every source bucket's end.
    const merged = new Map<string, { tMs: number; server: string; requests: number; errors: number; inFlight: number | null; healthy: boolean | null }>();
    for (const t of r.timeline.rows) {
      const tMs = Math.floor(t.tMs / r.bucketMs) * r.bucketMs;
      const id = `${tMs}\u0000${t.server}`;
      const m = merged.get(id);
      if (!m) { merged.set(id, { ...t, tMs }); continue; }
      m.requests += t.requests;
      m.errors += t.errors;
      if (t.inFlight !== null) m.inFlight = Math.max(m.inFlight ?? 0, t.inFlight);
      if (t.healthy !== null) m.healthy = (m.healthy ?? true) && t.healthy;
    }
    return [...merged.values()].sort((a, b) => a.tMs - b.tMs || naturalCompare(a.server, b.server)).map((t) => {
      const sec = coveredSec(t.tMs, r.bucketMs, r.summary.durationMs);
      return {
        ...cols,
        tS: ms(t.tMs / 1000),
        server: t.server,
        attemptsPerSec: roundTo(t.requests / sec, 3),
        errorsPerSec: roundTo(t.errors / sec, 3),
        inFlight: t.inFlight,
        healthy: t.healthy === null ? null : t.healthy ? 1 : 0,
      };
    });
  });
}

/** Per time bucket of a run: client-side counts and latency (requests.csv), server-side errors and routable servers (timeline.csv). */
export interface RunTimelineRow extends RunColumns {
  tS: number;
  completedPerSec: number | null;
  failedPerSec: number | null;
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  attemptErrorsPerSec: number | null;
  routableServers: number | null;
}

export function runTimelineRows(e: ExperimentResults, serverTimeline = serverTimelineRows(e)): RunTimelineRow[] {
  return e.runs.flatMap((r) => {
    const rows = new Map<number, RunTimelineRow>();
    const cols = runColumns(r);
    const at = (tS: number): RunTimelineRow => {
      let row = rows.get(tS);
      if (!row) {
        row = {
          ...cols, tS, completedPerSec: null, failedPerSec: null, latencyP50Ms: null, latencyP99Ms: null,
          attemptErrorsPerSec: null, routableServers: null,
        };
        rows.set(tS, row);
      }
      return row;
    };
    for (const b of r.requests?.buckets ?? []) {
      const row = at(ms(b.tMs / 1000));
      const sec = coveredSec(b.tMs, r.requests!.bucketMs, r.summary.durationMs);
      row.completedPerSec = roundTo(b.completed / sec, 3);
      row.failedPerSec = roundTo(b.failed / sec, 3);
      const [p50, p99] = b.latency.quantilesMs([0.5, 0.99]);
      row.latencyP50Ms = ms(p50);
      row.latencyP99Ms = ms(p99);
    }
    for (const t of serverTimeline) {
      if (t.mode !== r.mode || t.run !== cols.run) continue;
      const row = at(t.tS);
      row.attemptErrorsPerSec = roundTo((row.attemptErrorsPerSec ?? 0) + t.errorsPerSec, 3);
      if (t.healthy !== null) row.routableServers = (row.routableServers ?? 0) + t.healthy;
    }
    return [...rows.values()].sort((a, b) => a.tS - b.tS);
  });
}

// ---- all at once ----------------------------------------------------------------------

/** Every derived table of an experiment, computed once: the CSVs and the charts read the same rows. */
export interface Derived {
  runs: RunRow[];
  servers: ServerShareRow[];
  fidelity: FidelityRow[];
  cdf: CdfRow[];
  attempts: AttemptRow[];
  serverTimeline: ServerTimelineRow[];
  runTimeline: RunTimelineRow[];
  /** Colour domain for servers. */
  serverIds: string[];
}

export function derive(e: ExperimentResults): Derived {
  const serverTimeline = serverTimelineRows(e);
  return {
    runs: runRows(e),
    servers: serverRows(e),
    fidelity: allFidelityRows(e),
    cdf: cdfRows(e),
    attempts: attemptRows(e),
    serverTimeline,
    runTimeline: runTimelineRows(e, serverTimeline),
    serverIds: allServers(e),
  };
}
