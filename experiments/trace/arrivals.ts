// A recorded trace as an arrival schedule, pulled one request at a time (bounded memory):
// arrival gaps as logged, divided by `speed`; each client keeps its identity (a stable
// index, so a stable loopback address, see clientIndexOf); each request carries its method,
// path and service time: its own estimate (estimate.ts), or with "resampled" one drawn from
// the estimates of the same path.
import { murmur3 } from '../../core/hash.ts';
import { rngStream } from '../../core/rng.ts';
import type { Rng } from '../../core/types.ts';
import type { TraceConfig, WorkloadConfig } from '../schema.ts';
import type { Arrival } from '../workload.ts';
import { ServiceEstimator } from './estimate.ts';
import { type ReadStats, readTrace } from './read.ts';
import type { TraceRecord } from './record.ts';

/** Client indexes run 0 … MAX_CLIENTS − 1 (experiments/schema.ts); kept here to avoid an import cycle. */
const CLIENT_SPACE = 0xffffff - 1;

/**
 * A logged client's index: Fulcrum's own indexes (0, 1, …) stay as they are, so a replayed
 * run hashes the very addresses it used; any other identity (an address, a user id) is
 * hashed into the 16.7 M loopback addresses. Among 10,000 clients about 3 pairs collide
 * (n²/2m); each such pair shares one address, and so one sticky backend.
 */
export function clientIndexOf(client: string): number {
  if (/^[0-9]{1,8}$/.test(client) && Number(client) < CLIENT_SPACE) return Number(client);
  return murmur3(client) % CLIENT_SPACE;
}

export class TraceArrivals implements Iterator<Arrival>, Iterable<Arrival> {
  private id = 0;
  private readonly records: Iterator<TraceRecord>;
  private originMs: number | undefined;
  private readonly trace: TraceConfig;
  private readonly total: number;
  private readonly endMs: number;
  private readonly resample: PathSamples | undefined;
  private readonly estimator: ServiceEstimator;

  constructor(w: WorkloadConfig, seed: number) {
    if (!w.trace) throw new Error('not a trace workload');
    this.trace = w.trace;
    this.records = readTrace(w.trace.file, w.trace.format)[Symbol.iterator]();
    this.total = w.requests ?? Infinity;
    this.endMs = w.durationMs ?? Infinity;
    this.estimator = new ServiceEstimator(w.trace);
    this.resample = w.trace.serviceTime === 'resampled'
      ? PathSamples.collect(w.trace, w.path, rngStream(seed, 'workload/trace/reservoir'), rngStream(seed, 'workload/trace/service'))
      : undefined;
  }

  take(): Arrival | undefined {
    if (this.id >= this.total) return undefined;
    const { fromMs, toMs } = this.trace.window;
    for (;;) {
      const next = this.records.next();
      if (next.done) return this.finish();
      const r = next.value;
      // Every record, even one before the window, updates the recorded queues.
      const loggedMs = this.trace.serviceTime === 'logged' ? this.estimator.estimateMs(r) : undefined;
      this.originMs ??= r.atMs;
      const traceMs = r.atMs - this.originMs;
      if (traceMs < fromMs) continue;
      if (toMs !== undefined && traceMs >= toMs) return this.finish();
      const atMs = (traceMs - fromMs) / this.trace.speed;
      if (atMs >= this.endMs) return this.finish();
      return {
        id: this.id++, atMs, client: clientIndexOf(r.client), method: r.method, path: r.path,
        serviceMs: this.trace.serviceTime === 'resampled' ? this.resample!.draw(r.path) : loggedMs,
      };
    }
  }

  next(): IteratorResult<Arrival> {
    const value = this.take();
    return value ? { done: false, value } : { done: true, value: undefined };
  }

  [Symbol.iterator](): this { return this; }

  private finish(): undefined {
    this.id = this.total;
    this.records.return?.(); // closes the file
    return undefined;
  }
}

/** Per path, a uniform reservoir of the trace's service estimates (Vitter's algorithm R). */
class PathSamples {
  static readonly PER_PATH = 1024;
  /** Paths beyond this many share one pool, so a trace of unique URLs stays bounded. */
  static readonly MAX_PATHS = 1000;
  private static readonly OTHER = '\u0000other';
  private readonly pools = new Map<string, { seen: number; values: number[] }>();

  private constructor(private readonly defaultPath: string, private readonly draws: Rng) {}

  static collect(trace: TraceConfig, defaultPath: string, reservoir: Rng, draws: Rng): PathSamples {
    const samples = new PathSamples(defaultPath, draws);
    const estimator = new ServiceEstimator(trace);
    for (const r of readTrace(trace.file, trace.format)) samples.add(samples.key(r.path), estimator.estimateMs(r), reservoir);
    return samples;
  }

  draw(path: string | undefined): number {
    const pool = this.pools.get(this.key(path)) ?? this.pools.get(PathSamples.OTHER)!;
    return pool.values[Math.floor(this.draws() * pool.values.length)];
  }

  private key(path: string | undefined): string {
    const p = path ?? this.defaultPath;
    return this.pools.has(p) || this.pools.size < PathSamples.MAX_PATHS ? p : PathSamples.OTHER;
  }

  private add(key: string, value: number, rng: Rng): void {
    let pool = this.pools.get(key);
    if (!pool) { pool = { seen: 0, values: [] }; this.pools.set(key, pool); }
    pool.seen++;
    if (pool.values.length < PathSamples.PER_PATH) pool.values.push(value);
    else {
      const j = Math.floor(rng() * pool.seen);
      if (j < PathSamples.PER_PATH) pool.values[j] = value;
    }
  }
}

/** Reads the whole trace once: throws TraceError at the first malformed line; counts what it would replay. */
export function checkTrace(trace: Pick<TraceConfig, 'file' | 'format'>): { records: number; skipped: ReadStats['skipped'] } {
  const stats: ReadStats = { skipped: new Map() };
  let records = 0;
  for (const _ of readTrace(trace.file, trace.format, stats)) records++;
  return { records, skipped: stats.skipped };
}
