// The result files of one run, identical in name and columns for both engines: the
// simulator and the live runner feed a ResultWriter through the Recorder interface and it
// writes summary.json, requests.csv (streamed), servers.csv and timeline.csv. Memory stays
// bounded by the number of servers, not the number of requests.
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { type Stringifier, stringify } from 'csv-stringify';
import { PercentileHistogram } from './histogram.ts';
import type { Recorder, RequestRecord, ServerSnapshot } from './records.ts';
import { type RunMeta, type RunSummary, type ServerTotals, buildSummary, emptyOutcomes, roundMs } from './summary.ts';

export const RESULT_FILES = {
  summary: 'summary.json',
  requests: 'requests.csv',
  servers: 'servers.csv',
  timeline: 'timeline.csv',
} as const;

export const REQUEST_COLUMNS = ['id', 'client', 'startMs', 'endMs', 'latencyMs', 'status', 'outcome', 'attempts', 'servers'];
export const SERVER_COLUMNS = ['server', 'requests', 'ok', 'errors', 'share'];
export const TIMELINE_COLUMNS = ['bucketStartMs', 'server', 'requests', 'errors', 'inFlight', 'healthy'];

export interface WriterOptions {
  dir: string;
  meta: RunMeta;
  /** Servers present at the start, in the order the files list them (later ones follow). */
  serverIds: readonly string[];
  bucketMs: number;
  /** false: skip requests.csv (--no-requests). */
  writeRequests: boolean;
}

interface CsvFile { csv: Stringifier; file: WriteStream }

/** Everything kept per server: totals for the run, counts in the open bucket, last state. */
interface ServerEntry {
  totals: ServerTotals;
  bucketRequests: number;
  bucketErrors: number;
  inFlight: number;
  healthy: boolean;
}

export class ResultWriter implements Recorder {
  readonly bucketMs: number;
  private readonly latency = new PercentileHistogram();
  private readonly outcomes = emptyOutcomes();
  private attempts = 0;
  private retries = 0;
  private lastEndMs = 0;
  /** One lookup per call on the hot path; insertion order is the order files list servers in. */
  private readonly servers = new Map<string, ServerEntry>();
  /** The open timeline bucket is [bucket × bucketMs, nextBoundaryMs). */
  private bucket = 0;
  private nextBoundaryMs: number;

  private constructor(
    private readonly opts: WriterOptions,
    private readonly requests: CsvFile | undefined,
    private readonly timeline: CsvFile,
  ) {
    this.bucketMs = opts.bucketMs;
    this.nextBoundaryMs = opts.bucketMs;
    for (const id of opts.serverIds) this.server(id);
  }

  /** Creates the folder and opens the streamed files. Stale result files there are removed. */
  static async open(o: WriterOptions): Promise<ResultWriter> {
    await mkdir(o.dir, { recursive: true });
    await Promise.all(Object.values(RESULT_FILES).map((f) => rm(join(o.dir, f), { force: true })));
    const requests = o.writeRequests ? openCsv(join(o.dir, RESULT_FILES.requests), REQUEST_COLUMNS) : undefined;
    const timeline = openCsv(join(o.dir, RESULT_FILES.timeline), TIMELINE_COLUMNS);
    return new ResultWriter(o, requests, timeline);
  }

  attemptStarted(serverId: string, atMs: number): void {
    if (atMs >= this.nextBoundaryMs) this.advanceTo(atMs);
    const s = this.server(serverId);
    s.totals.requests++;
    s.bucketRequests++;
  }

  attemptEnded(serverId: string, atMs: number, ok: boolean): void {
    if (atMs >= this.nextBoundaryMs) this.advanceTo(atMs);
    const s = this.server(serverId);
    if (ok) s.totals.ok++;
    else {
      s.totals.errors++;
      s.bucketErrors++;
    }
  }

  requestDone(r: RequestRecord): void {
    const latencyMs = r.endMs - r.startMs;
    this.latency.record(latencyMs);
    this.outcomes[r.outcome]++;
    const attempts = r.servers.length;
    this.attempts += attempts;
    if (attempts > 1) this.retries += attempts - 1;
    if (r.endMs > this.lastEndMs) this.lastEndMs = r.endMs;
    this.requests?.csv.write([
      r.id, r.client, roundMs(r.startMs), roundMs(r.endMs), roundMs(latencyMs), r.status, r.outcome, attempts, r.servers.join('|'),
    ]);
  }

  bucketEnd(atMs: number, servers: readonly ServerSnapshot[]): void {
    this.setState(servers);
    this.advanceTo(atMs);
  }

  /** True while a stream's buffer is full: the producer should `await drain()`. */
  get backpressured(): boolean {
    return (this.requests?.csv.writableNeedDrain ?? false) || this.timeline.csv.writableNeedDrain;
  }

  async drain(): Promise<void> {
    if (this.requests?.csv.writableNeedDrain) await once(this.requests.csv, 'drain');
    if (this.timeline.csv.writableNeedDrain) await once(this.timeline.csv, 'drain');
  }

  /**
   * Ends the run: the open timeline bucket is written with the final server states,
   * servers.csv and summary.json follow, and the streams are closed.
   */
  async close(end: { atMs: number; servers: readonly ServerSnapshot[] }): Promise<RunSummary> {
    this.setState(end.servers);
    this.advanceTo(end.atMs);
    const bucketHasCounts = [...this.servers.values()].some((s) => s.bucketRequests > 0 || s.bucketErrors > 0);
    if (end.atMs > this.bucket * this.bucketMs || bucketHasCounts) this.writeBucket();
    const totals = new Map([...this.servers].map(([id, s]) => [id, s.totals]));
    const summary = buildSummary(this.opts.meta, {
      outcomes: this.outcomes,
      attempts: this.attempts,
      retries: this.retries,
      servers: totals,
      latency: this.latency,
      durationMs: this.lastEndMs,
    });
    await Promise.all([closeCsv(this.timeline), this.requests ? closeCsv(this.requests) : undefined]);
    await writeServersCsv(join(this.opts.dir, RESULT_FILES.servers), totals, this.attempts);
    await writeFile(join(this.opts.dir, RESULT_FILES.summary), `${JSON.stringify(summary, null, 2)}\n`);
    return summary;
  }

  private server(id: string): ServerEntry {
    let s = this.servers.get(id);
    if (!s) {
      s = { totals: { requests: 0, ok: 0, errors: 0 }, bucketRequests: 0, bucketErrors: 0, inFlight: 0, healthy: false };
      this.servers.set(id, s);
    }
    return s;
  }

  private setState(snapshot: readonly ServerSnapshot[]): void {
    // Servers missing from a snapshot were removed: nothing in flight, not routable.
    for (const s of this.servers.values()) { s.inFlight = 0; s.healthy = false; }
    for (const snap of snapshot) {
      const s = this.server(snap.id);
      s.inFlight = snap.inFlight;
      s.healthy = snap.healthy;
    }
  }

  /** Writes every bucket that ended at or before `atMs`. */
  private advanceTo(atMs: number): void {
    while (atMs >= this.nextBoundaryMs) this.writeBucket();
  }

  private writeBucket(): void {
    const startMs = roundMs(this.bucket * this.bucketMs);
    for (const [id, s] of this.servers) {
      this.timeline.csv.write([startMs, id, s.bucketRequests, s.bucketErrors, s.inFlight, s.healthy ? 1 : 0]);
      s.bucketRequests = 0;
      s.bucketErrors = 0;
    }
    this.bucket++;
    this.nextBoundaryMs = (this.bucket + 1) * this.bucketMs;
  }
}

function openCsv(path: string, columns: string[]): CsvFile {
  const csv = stringify({ header: true, columns });
  const file = createWriteStream(path);
  csv.pipe(file);
  return { csv, file };
}

async function closeCsv(f: CsvFile): Promise<void> {
  f.csv.end();
  await finished(f.file);
}

async function writeServersCsv(path: string, totals: ReadonlyMap<string, ServerTotals>, attempts: number): Promise<void> {
  const f = openCsv(path, SERVER_COLUMNS);
  for (const [id, t] of totals) {
    const share = attempts > 0 ? Math.round((t.requests / attempts) * 1e6) / 1e6 : 0;
    f.csv.write([id, t.requests, t.ok, t.errors, share]);
  }
  await closeCsv(f);
}
