// The plain CSV trace, `timestamp,client,method,path,serviceMs`: the format for anything
// without a parser here, and what `npm run trace -- import` writes. timestamp is in ms (any
// epoch) or an ISO 8601 date; method and path may be empty (the workload's then apply);
// serviceMs is the service time to replay. Written back, a record reads in unchanged.
import { stringify } from 'csv-stringify';
import type { Stringifier } from 'csv-stringify';
import { type LineResult, REPLAY_METHODS, type TraceRecord, parseDecimal } from './record.ts';

export const CSV_COLUMNS = ['timestamp', 'client', 'method', 'path', 'serviceMs'] as const;
const HEADER = CSV_COLUMNS.join(',');
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** A parser for the rows of one file: the first row must be the header. */
export function csvRowParser(): (fields: string[], line: number) => LineResult | undefined {
  let sawHeader = false;
  return (fields, line) => {
    if (!sawHeader) {
      if (fields.join(',') !== HEADER) return { problem: `expected the header ${HEADER}, got ${JSON.stringify(fields.join(','))}` };
      sawHeader = true;
      return undefined;
    }
    if (fields.length !== CSV_COLUMNS.length) return { problem: `expected ${CSV_COLUMNS.length} fields (${HEADER}), got ${fields.length}` };
    const [timestamp, client, method, path, serviceMs] = fields;
    const atMs = ISO_DATE.test(timestamp) ? Date.parse(timestamp) : parseDecimal(timestamp);
    if (atMs === undefined || !Number.isFinite(atMs)) return { problem: `timestamp: expected ms (e.g. 1733400000123.5) or an ISO 8601 date, got ${JSON.stringify(timestamp)}` };
    if (client === '') return { problem: 'client: expected an address or id, got an empty field' };
    if (method !== '' && !REPLAY_METHODS.has(method)) return { problem: `method: expected one of ${[...REPLAY_METHODS].join(', ')} (or empty), got ${JSON.stringify(method)}` };
    if (path !== '' && !path.startsWith('/')) return { problem: `path: expected a path starting with / (or empty), got ${JSON.stringify(path)}` };
    const upstreamMs = parseDecimal(serviceMs);
    if (upstreamMs === undefined) return { problem: `serviceMs: expected a non-negative number of ms, got ${JSON.stringify(serviceMs)}` };
    return { line, atMs, client, method: method || undefined, path: path || undefined, upstreamMs };
  };
}

/** A CSV writer for records (pipe it to a file): the header, then one row per record. */
export function csvTraceWriter(): Stringifier {
  return stringify({ header: true, columns: [...CSV_COLUMNS] });
}

/** One record as the writer's row. */
export function csvRow(r: Omit<TraceRecord, 'line'>): string[] {
  return [String(r.atMs), r.client, r.method ?? '', r.path ?? '', String(r.upstreamMs)];
}
