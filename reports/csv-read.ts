// Streams a CSV file row by row, finding columns by header name (each with a few accepted
// spellings), so large files are never held in memory and column order never matters.
// Every problem is a ReportInputError naming the file, the line and the column.
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse } from 'csv-parse';
import { ReportInputError } from './errors.ts';

export interface ColumnSpec {
  /** Accepted header names, preferred first. */
  names: readonly string[];
  required?: boolean;
}

export interface Row<K extends string> {
  /** 1-based line number in the file, for messages. */
  line: number;
  has(k: K): boolean;
  text(k: K): string;
  /** A finite number; an empty cell or anything else is an error naming the cell. */
  number(k: K): number;
}

export interface CsvRead<K extends string> { rows: number; present: ReadonlySet<K> }

export async function readCsv<K extends string>(
  path: string, columns: Record<K, ColumnSpec>, onRow: (row: Row<K>) => void,
): Promise<CsvRead<K>> {
  const keys = Object.keys(columns) as K[];
  const index = new Map<K, number>();
  let header: string[] | undefined;
  let record: string[] = [];
  let line = 1;
  let rows = 0;
  const cell = (k: K): string => {
    const i = index.get(k);
    return i === undefined ? '' : record[i];
  };
  const row: Row<K> = {
    get line() { return line; },
    has: (k) => index.has(k),
    text: cell,
    number: (k) => {
      const s = cell(k);
      const n = s.trim() === '' ? NaN : Number(s);
      if (!Number.isFinite(n)) {
        throw new ReportInputError(path, `line ${line}, column "${header![index.get(k)!]}": got ${JSON.stringify(s)}; expected a number`);
      }
      return n;
    },
  };

  const parser = parse({ bom: true, skip_empty_lines: true });
  const sink = new Writable({
    objectMode: true,
    highWaterMark: 1024,
    write(rec: string[], _enc, done) {
      try {
        line = parser.info.lines;
        if (!header) {
          header = rec;
          for (const k of keys) {
            const i = rec.findIndex((h) => columns[k].names.includes(h));
            if (i >= 0) index.set(k, i);
            else if (columns[k].required) {
              const want = columns[k].names.map((n) => `"${n}"`).join(' or ');
              throw new ReportInputError(path, `missing column ${want}; the header is: ${rec.join(',')}`);
            }
          }
        } else {
          record = rec;
          rows++;
          onRow(row);
        }
        done();
      } catch (e) {
        done(e as Error);
      }
    },
  });
  try {
    await pipeline(createReadStream(path), parser, sink);
  } catch (e) {
    if (e instanceof ReportInputError) throw e;
    if (e instanceof CsvError) throw new ReportInputError(path, `line ${parser.info.lines}: ${e.message}`);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') throw new ReportInputError(path, `cannot read: ${code}`);
    throw e;
  }
  if (!header) throw new ReportInputError(path, 'empty file; expected a header line');
  return { rows, present: new Set(index.keys()) };
}
