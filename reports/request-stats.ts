// reports/<name>/request-stats.json: the aggregates the report takes from requests.csv, kept
// in git so a fresh clone (where requests.csv, one row per request, is ignored) draws the same
// CDFs, attempts, failures over time and stickiness as the machine that ran the experiment.
// Each run's entry carries the SHA-256 of the summary it was computed with: when the run's
// results change without a requests.csv to recompute from, the entry is stale and dropped.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exists } from './discover.ts';
import { ReportInputError } from './errors.ts';
import { type HistogramData, LogHistogram } from './histogram.ts';
import type { ReportRunSummary, RequestStats } from './model.ts';

export const REQUEST_STATS_FILE = 'request-stats.json';
const FORMAT = 1;

interface StatsData {
  summarySha256: string;
  bucketMs: number;
  count: number;
  failed: number;
  latency: HistogramData;
  attempts: Array<[number, number]>;
  outcomes: Array<[string, number]>;
  buckets: Array<{ tMs: number; completed: number; failed: number; latency: HistogramData }>;
  stickiness: RequestStats['stickiness'];
}

/** Run entries by "<mode folder>/<run dir>" ("sim/" for a plain run, "live-haproxy/retry" …). */
export type RequestStatsCache = Map<string, StatsData>;

export const cacheKey = (modeFolder: string, dir: string): string => `${modeFolder}/${dir}`;

/** The hash a cache entry is keyed by: the run's summary as read (key order kept, so stable). */
export function summaryHash(summary: ReportRunSummary): string {
  return createHash('sha256').update(JSON.stringify(summary)).digest('hex');
}

export async function readRequestStatsCache(dir: string): Promise<RequestStatsCache> {
  const path = join(dir, REQUEST_STATS_FILE);
  const cache: RequestStatsCache = new Map();
  if (!(await exists(path))) return cache;
  let parsed: { format?: unknown; runs?: Record<string, StatsData> };
  try {
    parsed = JSON.parse(await readFile(path, 'utf8')) as typeof parsed;
  } catch (e) {
    throw new ReportInputError(path, `not valid JSON (${(e as Error).message}); delete it and rerun the experiment to rebuild it`);
  }
  if (parsed.format !== FORMAT || typeof parsed.runs !== 'object' || parsed.runs === null) {
    throw new ReportInputError(path, `"format": expected ${FORMAT} with a "runs" object; delete the file and rerun the experiment to rebuild it`);
  }
  for (const [k, v] of Object.entries(parsed.runs)) cache.set(k, v);
  return cache;
}

/** The cached stats of one run, or null when there are none or they belong to other results. */
export function cachedStats(cache: RequestStatsCache, key: string, summary: ReportRunSummary, bucketMs: number): RequestStats | null {
  const d = cache.get(key);
  if (!d || d.summarySha256 !== summaryHash(summary) || d.bucketMs !== bucketMs) return null;
  return {
    count: d.count,
    failed: d.failed,
    latency: LogHistogram.fromData(d.latency),
    attempts: new Map(d.attempts),
    outcomes: new Map(d.outcomes),
    bucketMs: d.bucketMs,
    buckets: d.buckets.map((b) => ({ tMs: b.tMs, completed: b.completed, failed: b.failed, latency: LogHistogram.fromData(b.latency) })),
    stickiness: d.stickiness,
  };
}

export function statsData(s: RequestStats, summary: ReportRunSummary): StatsData {
  return {
    summarySha256: summaryHash(summary),
    bucketMs: s.bucketMs,
    count: s.count,
    failed: s.failed,
    latency: s.latency.toData(),
    attempts: [...s.attempts.entries()].sort((a, b) => a[0] - b[0]),
    outcomes: [...s.outcomes.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
    buckets: s.buckets.map((b) => ({ tMs: b.tMs, completed: b.completed, failed: b.failed, latency: b.latency.toData() })),
    stickiness: s.stickiness,
  };
}

/** One run per line, in the order given: small diffs when one run changes. Nothing to write → no file. */
export async function writeRequestStatsCache(dir: string, entries: ReadonlyArray<[string, StatsData]>): Promise<void> {
  if (entries.length === 0) return;
  const lines = entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
  await writeFile(join(dir, REQUEST_STATS_FILE), `{"format":${FORMAT},"runs":{\n${lines.join(',\n')}\n}}\n`);
}
