// The derived tables as CSV text: one file per table, columns in the order the rows are
// built, empty cells for null. Empty tables are not written (their charts do not exist).
import { stringify } from 'csv-stringify/sync';
import type { Derived } from './derive.ts';

export function tablesOf(d: Derived): Map<string, readonly object[]> {
  const all: Array<[string, readonly object[]]> = [
    ['runs.csv', d.runs],
    ['servers.csv', d.servers],
    ['fidelity.csv', d.fidelity],
    ['cdf.csv', d.cdf],
    ['attempts.csv', d.attempts],
    ['timeline-servers.csv', d.serverTimeline],
    ['timeline-runs.csv', d.runTimeline],
  ];
  return new Map(all.filter(([, rows]) => rows.length > 0));
}

export function toCsv(rows: readonly object[]): string {
  const columns = Object.keys(rows[0]);
  return stringify(rows.map((r) => columns.map((c) => (r as Record<string, unknown>)[c])), {
    header: true,
    columns,
    cast: { boolean: (v) => String(v) },
  });
}
