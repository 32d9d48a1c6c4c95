// Reading a trace file in bounded memory: fixed-size chunks read synchronously (the
// simulator pulls arrivals inside its event loop, which cannot await), split into lines,
// or fed to csv-parse's streaming parser, one record out per line in. Then a bounded
// reorder window puts arrivals in time order: logs are written when requests *end*, so
// start times are out of order by at most the slowest request in flight.
import { closeSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { CsvError, Parser } from 'csv-parse';
import { type LineResult, type TraceFormat, TraceError, type TraceRecord } from './record.ts';
import { csvRowParser } from './csv.ts';
import { ReorderWindow } from './reorder.ts';
import { fulcrumRowParser } from './fulcrum.ts';
import { nginxLine } from './nginx.ts';
import { haproxyLine } from './haproxy.ts';

const CHUNK_BYTES = 1 << 20;
/** Lines held to restore time order; a record later than this many lines after its place is an error. */
export const REORDER_LINES = 65_536;

/** The file's bytes, one chunk at a time; a final newline is added when the file lacks one. */
function* fileChunks(file: string): Generator<Buffer> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new TraceError(file, 0, `cannot read the file: ${(e as Error).message}`);
  }
  try {
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    let last = 0x0a;
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK_BYTES, null);
      if (n === 0) break;
      last = buf[n - 1];
      yield Buffer.from(buf.subarray(0, n)); // a copy: the parser may keep slices of it
    }
    if (last !== 0x0a) yield Buffer.from('\n');
  } finally {
    closeSync(fd);
  }
}

/** Lines with their 1-based numbers, without the line ending; BOM stripped. */
export function* fileLines(file: string): Generator<{ line: number; text: string }> {
  const decoder = new StringDecoder('utf8'); // holds back a character split across chunks
  let rest = '';
  let line = 0;
  for (const chunk of fileChunks(file)) {
    const text = rest + decoder.write(chunk);
    let from = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
      line++;
      let s = text.slice(from, nl);
      if (s.endsWith('\r')) s = s.slice(0, -1);
      if (line === 1 && s.startsWith('\uFEFF')) s = s.slice(1);
      yield { line, text: s };
      from = nl + 1;
    }
    rest = text.slice(from);
  }
}

/**
 * CSV rows with the line each ends on, through csv-parse's streaming parser driven
 * synchronously: a chunk goes in with write(), its records come out with read() before
 * the next chunk (csv-parse's transform is synchronous, so nothing waits on the event loop).
 */
export function* csvRows(file: string): Generator<{ line: number; fields: string[] }> {
  const parser = new Parser({ info: true, bom: true, skip_empty_lines: true, relax_column_count: true });
  let lastLine = 0;
  parser.on('error', () => {}); // emitted on the next tick; `errored` has it at once
  // csv-parse holds back the last few bytes until it knows whether more follow: a few empty
  // lines (skipped) at the end let the real last record out without waiting for end().
  for (const chunk of withTrailingNewlines(fileChunks(file))) {
    parser.write(chunk);
    for (let r = parser.read() as CsvRecord | null; r !== null; r = parser.read() as CsvRecord | null) {
      lastLine = r.info.lines;
      yield { line: lastLine, fields: r.record };
    }
    if (parser.errored) throw csvError(file, parser.errored); // after the records before it: the first problem wins
  }
  // Without end() csv-parse never reports a quote left open at the end of the file.
  if ((parser as unknown as { state: { quoting: boolean } }).state.quoting) {
    throw new TraceError(file, lastLine + 1, 'not valid CSV: a quoted field opened here is still open at the end of the file');
  }
}

function* withTrailingNewlines(chunks: Iterable<Buffer>): Generator<Buffer> {
  yield* chunks;
  yield Buffer.from('\n\n\n\n');
}

interface CsvRecord { record: string[]; info: { lines: number } }

function csvError(file: string, e: unknown): Error {
  if (e instanceof CsvError) return new TraceError(file, (e as CsvError & { lines?: number }).lines ?? 0, `not valid CSV: ${e.message}`);
  return e as Error;
}

/** Every line's result in file order: the format's parser over lines or CSV rows. */
function parsedLines(file: string, format: TraceFormat): Iterable<LineResult & { line?: number }> {
  switch (format) {
    case 'nginx': return mapLines(fileLines(file), nginxLine);
    case 'haproxy': return mapLines(fileLines(file), haproxyLine);
    case 'csv': return mapRows(csvRows(file), csvRowParser());
    case 'fulcrum': return mapRows(csvRows(file), fulcrumRowParser());
  }
}

function* mapLines(lines: Iterable<{ line: number; text: string }>, parse: (text: string, line: number) => LineResult | undefined) {
  for (const { line, text } of lines) {
    if (text.trim() === '') continue;
    const r = parse(text, line);
    if (r) yield { ...r, line };
  }
}

function* mapRows(rows: Iterable<{ line: number; fields: string[] }>, parse: (fields: string[], line: number) => LineResult | undefined) {
  for (const { line, fields } of rows) {
    const r = parse(fields, line);
    if (r) yield { ...r, line };
  }
}

export interface ReadStats {
  /** Lines skipped, by reason (e.g. "no upstream: answered by nginx itself"). */
  skipped: Map<string, number>;
}

/**
 * The trace's records in arrival order. Throws TraceError at the first malformed line, or
 * at a record that arrived more than REORDER_LINES lines before its place in the file.
 */
export function* readTrace(file: string, format: TraceFormat, stats?: ReadStats): Generator<TraceRecord> {
  const window = new ReorderWindow();
  let lastMs = -Infinity;
  const emit = (r: TraceRecord): TraceRecord => {
    if (r.atMs < lastMs) {
      throw new TraceError(file, r.line, `expected arrivals in time order within ${REORDER_LINES} lines; this one (at ${r.atMs} ms) is earlier than one already replayed (at ${lastMs} ms)`);
    }
    lastMs = r.atMs;
    return r;
  };
  for (const r of parsedLines(file, format)) {
    if ('problem' in r) throw new TraceError(file, r.line!, r.problem);
    if ('skip' in r) {
      stats?.skipped.set(r.skip, (stats.skipped.get(r.skip) ?? 0) + 1);
      continue;
    }
    window.add(r);
    if (window.size > REORDER_LINES) yield emit(window.takeEarliest());
  }
  while (window.size > 0) yield emit(window.takeEarliest());
}
