// The numbers in summary.json, built the same way for both engines. Key order is fixed by
// construction and every number is rounded, so equal runs give byte-identical files.
import type { PercentileHistogram } from './histogram.ts';
import type { RequestOutcome } from './records.ts';
import type { ProxyName } from './proxies.ts';

export const OUTCOMES: readonly RequestOutcome[] = [
  'ok', 'error', 'no_backend', 'connect_failed', 'upstream_reset', 'upstream_timeout', 'deadline',
];

export interface ServerTotals { requests: number; ok: number; errors: number }

export interface RunMeta {
  experiment: string;
  mode: 'sim' | 'live';
  /** The proxy run or modelled, when not Fulcrum's own (whose files stay as they were). */
  proxy?: ProxyName;
  variant?: string;
  seed: number;
  policy: string;
}

export interface RunSummary {
  experiment: string;
  mode: 'sim' | 'live';
  proxy?: ProxyName;
  variant?: string;
  seed: number;
  policy: string;
  requests: { total: number; ok: number; failed: number; attempts: number; retries: number };
  outcomes: Record<RequestOutcome, number>;
  servers: Record<string, ServerTotals>;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  fairness: { maxOverMean: number | null; jain: number | null };
  durationMs: number;
}

export interface Tallies {
  outcomes: Record<RequestOutcome, number>;
  attempts: number;
  retries: number;
  servers: ReadonlyMap<string, ServerTotals>;
  latency: PercentileHistogram;
  durationMs: number;
}

/** ms to the microsecond: what the histogram resolves and plenty for reports. */
export const roundMs = (x: number): number => Math.round(x * 1000) / 1000;
const roundRatio = (x: number): number => Math.round(x * 1e6) / 1e6;

export function buildSummary(meta: RunMeta, t: Tallies): RunSummary {
  let total = 0;
  for (const o of OUTCOMES) total += t.outcomes[o];
  const servers: Record<string, ServerTotals> = {};
  for (const [id, s] of t.servers) servers[id] = { requests: s.requests, ok: s.ok, errors: s.errors };
  const f = fairness([...t.servers.values()].map((s) => s.requests));
  const h = t.latency;
  return {
    experiment: meta.experiment,
    mode: meta.mode,
    ...(meta.proxy !== undefined && meta.proxy !== 'fulcrum' ? { proxy: meta.proxy } : {}),
    ...(meta.variant !== undefined ? { variant: meta.variant } : {}),
    seed: meta.seed,
    policy: meta.policy,
    requests: { total, ok: t.outcomes.ok, failed: total - t.outcomes.ok, attempts: t.attempts, retries: t.retries },
    outcomes: { ...Object.fromEntries(OUTCOMES.map((o) => [o, t.outcomes[o]])) } as Record<RequestOutcome, number>,
    servers,
    latencyMs: {
      mean: roundMs(h.meanMs),
      p50: roundMs(h.percentileMs(50)),
      p90: roundMs(h.percentileMs(90)),
      p99: roundMs(h.percentileMs(99)),
      max: roundMs(h.count ? h.maxMs : 0),
    },
    fairness: {
      maxOverMean: f.maxOverMean === null ? null : roundRatio(f.maxOverMean),
      jain: f.jain === null ? null : roundRatio(f.jain),
    },
    durationMs: roundMs(t.durationMs),
  };
}

/**
 * How evenly attempts spread: max / mean (1 = perfectly even) and Jain's index
 * (Σx)² / (n·Σx²), 1 when even, 1/n when one server takes everything. null with no traffic.
 */
export function fairness(counts: readonly number[]): { maxOverMean: number | null; jain: number | null } {
  const n = counts.length;
  let sum = 0;
  let sumSq = 0;
  let max = 0;
  for (const c of counts) { sum += c; sumSq += c * c; if (c > max) max = c; }
  if (n === 0 || sum === 0) return { maxOverMean: null, jain: null };
  return { maxOverMean: max / (sum / n), jain: (sum * sum) / (n * sumSq) };
}

export function emptyOutcomes(): Record<RequestOutcome, number> {
  return { ok: 0, error: 0, no_backend: 0, connect_failed: 0, upstream_reset: 0, upstream_timeout: 0, deadline: 0 };
}
