// `npm run trace -- import`: any supported log → the plain CSV trace, in arrival order, with
// each request's service estimate (estimate.ts) and, with anonymize, client identities and
// paths replaced by keyed hashes (HMAC-SHA-256; the same input and key give the same
// output, so stickiness and per-path statistics survive). Written to a temporary file and
// renamed at the end: a malformed line leaves nothing behind.
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { ServiceEstimator } from './estimate.ts';
import { csvRow, csvTraceWriter } from './csv.ts';
import { type ReadStats, readTrace } from './read.ts';
import type { TraceFormat, TraceRecord } from './record.ts';

export interface ImportOptions {
  input: string;
  format: TraceFormat;
  output: string;
  /** The estimator's settings (estimate.ts): overhead off each logged time; the recorded servers' workers. */
  overheadMs: number;
  recordedConcurrency?: number;
  /** The HMAC key for anonymizing; undefined keeps clients and paths as logged. */
  anonymizeKey?: string;
}

export interface ImportReport {
  records: number;
  skipped: ReadStats['skipped'];
  firstMs?: number;
  lastMs?: number;
}

export async function importTrace(o: ImportOptions): Promise<ImportReport> {
  const tmp = `${o.output}.partial-${process.pid}`;
  const writer = csvTraceWriter();
  const file = createWriteStream(tmp);
  writer.pipe(file);
  const report: ImportReport = { records: 0, skipped: new Map() };
  const estimator = new ServiceEstimator(o);
  try {
    for (const r of readTrace(o.input, o.format, report)) {
      report.firstMs ??= r.atMs;
      report.lastMs = r.atMs;
      report.records++;
      if (!writer.write(csvRow(normalised(r, estimator.estimateMs(r), o)))) await once(writer, 'drain');
    }
    writer.end();
    await finished(file);
    await rename(tmp, o.output);
    return report;
  } catch (e) {
    writer.destroy();
    file.destroy();
    await rm(tmp, { force: true });
    throw e;
  }
}

function normalised(r: TraceRecord, serviceMs: number, o: ImportOptions): Omit<TraceRecord, 'line'> {
  const key = o.anonymizeKey;
  const hash = (text: string) => createHmac('sha256', key!).update(text).digest('hex').slice(0, 16);
  return {
    atMs: r.atMs,
    client: key === undefined ? r.client : `c-${hash(`client:${r.client}`)}`,
    method: r.method,
    path: key === undefined || r.path === undefined ? r.path : `/h/${hash(`path:${r.path}`)}`,
    upstreamMs: serviceMs,
  };
}
