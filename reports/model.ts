// The report's view of one experiment's results: plain data, filled by load.ts, read by
// derive.ts, the chart builders and html.ts. Nothing here does I/O.
import type { Answer } from '../experiments/answer.ts';
import type { ProxyName } from '../experiments/proxies.ts';
import type { LogHistogram } from './histogram.ts';

export type Mode = 'sim' | 'live';
/** Sim first everywhere: tables, legends, colours. */
export const MODES: readonly Mode[] = ['sim', 'live'];

/** Which run inside a mode folder: '' for a plain run, else its folder (variant, sweep point or both). */
export interface RunKey {
  dir: string;
  variant?: string;
  point?: { path: string; value: unknown; index: number; label: string };
}

export interface LatencySummary { mean: number; p50: number; p90: number; p99: number; max: number }

/** The fields of a run's summary.json the report uses; the file may hold more. */
export interface ReportRunSummary {
  policy?: string;
  seed?: number;
  requests: { total: number; ok: number; failed: number; attempts: number; retries: number };
  servers: Record<string, { requests: number; ok: number; errors: number }>;
  latencyMs: LatencySummary;
  fairness: { maxOverMean: number | null; jain: number | null };
  durationMs: number;
}

export interface ServerRow { server: string; requests: number; ok: number; errors: number }

/** One row of timeline.csv: a server during one bucket. */
export interface TimelineRow {
  tMs: number;
  server: string;
  requests: number;
  errors: number;
  inFlight: number | null;
  healthy: boolean | null;
}

export interface Timeline { bucketMs: number; rows: TimelineRow[] }

/** Client-observed numbers for one time bucket, by completion time. */
export interface RequestBucket {
  tMs: number;
  completed: number;
  failed: number;
  latency: LogHistogram;
}

/** What streaming requests.csv leaves behind: bounded by buckets and clients, not rows. */
export interface RequestStats {
  count: number;
  failed: number;
  latency: LogHistogram;
  /** attempts per logical request → requests. */
  attempts: Map<number, number>;
  outcomes: Map<string, number>;
  bucketMs: number;
  buckets: RequestBucket[];
  /**
   * Requests whose first attempt went where the same client's previous request went; and
   * clients seen more than once (`repeatClients`), of which `movedClients` changed server at
   * least once (keys moved, e.g. when a server joins a hash ring).
   */
  stickiness: {
    same: number; eligible: number; clientsTracked: number; clientsCapped: boolean; repeatClients: number; movedClients: number;
  } | null;
}

export interface RunResult {
  mode: Mode;
  key: RunKey;
  summary: ReportRunSummary;
  servers: ServerRow[];
  timeline: Timeline | null;
  requests: RequestStats | null;
  /** Width of the time buckets charts use, shared by both engines of a run key (a multiple of the timeline's). */
  bucketMs: number;
}

/** A kill, restart, membership change …: drawn as a vertical rule on time charts. */
export interface Marker { tMs: number; label: string }

/** One proxy's results of an experiment (its sim-<proxy>/ and live-<proxy>/ folders; sim/ and live/ for Fulcrum's). */
export interface ExperimentResults {
  name: string;
  proxy: ProxyName;
  description: string;
  /** Which metric answers the experiment's question (experiments/<name>.json "answer"). */
  answer: Answer | null;
  modes: Mode[];
  /** Every run key present in any mode, in display order (variants, then sweep points). */
  keys: RunKey[];
  runs: RunResult[];
  variants: string[] | null;
  sweep: { path: string; values: unknown[] } | null;
  /** Markers per run dir, from experiments/<name>.json when it is there and valid. */
  markers: Map<string, Marker[]>;
  /** The proxy's own name for each run's balancing (proxy-words.ts), by run dir; none for Fulcrum's. */
  balance: Map<string, string>;
  warnings: string[];
}

export function runOf(e: ExperimentResults, key: RunKey, mode: Mode): RunResult | undefined {
  return e.runs.find((r) => r.mode === mode && r.key.dir === key.dir);
}

/** "no-retry · servers.count=3", or "" for a plain run. */
export function keyLabel(key: RunKey): string {
  return [key.variant, key.point?.label].filter((s) => s !== undefined).join(' · ');
}
