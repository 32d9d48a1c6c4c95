// The plain CSV trace is the exchange format: whatever `npm run trace -- import` writes
// reads back to the same records, and writing those again gives the same bytes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { importTrace } from '../../experiments/trace/import.ts';
import { readTrace } from '../../experiments/trace/read.ts';
import { REPLAY_METHODS, type TraceRecord } from '../../experiments/trace/record.ts';
import { tempDir, traceFile } from './helpers.ts';
import { csvRow } from '../../experiments/trace/csv.ts';

const record = fc.record({
  atMs: fc.oneof(fc.integer({ min: 0, max: 2 ** 45 }), fc.double({ min: 0, max: 1e13, noNaN: true, noDefaultInfinity: true })),
  // Anything printable, commas, quotes and newlines included: csv-stringify quotes them.
  client: fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }),
  method: fc.option(fc.constantFrom(...REPLAY_METHODS), { nil: undefined }),
  path: fc.option(fc.string({ maxLength: 30, unit: 'grapheme' }).map((s) => `/${s}`), { nil: undefined }),
  upstreamMs: fc.oneof(fc.integer({ min: 0, max: 600_000 }), fc.double({ min: 0, max: 600_000, noNaN: true })),
});

/** Records in time order with their lines dropped. */
const plain = (rs: TraceRecord[]) => rs.map(({ line: _line, ...r }) => r);

describe('CSV trace: import → export → import is lossless', () => {
  it('any records, written as CSV and read back, are the same records; re-importing gives the same bytes (fast-check)', async () => {
    const dir = tempDir();
    let n = 0;
    await fc.assert(fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 40 }), async (records) => {
      const sorted = [...records].sort((a, b) => a.atMs - b.atMs);
      const source = traceFile(`in-${n}.csv`, ['timestamp,client,method,path,serviceMs', ...sorted.map((r) => csvLine(csvRow(r)))], dir);
      const back = plain([...readTrace(source, 'csv')]);
      expect(back).toEqual(sorted.map((r) => ({ ...r, method: r.method, path: r.path })));
      // import (export to CSV) → import again: the same records and the same bytes.
      const once = join(dir, `once-${n}.csv`);
      const twice = join(dir, `twice-${n++}.csv`);
      await importTrace({ input: source, format: 'csv', output: once, overheadMs: 0 });
      await importTrace({ input: once, format: 'csv', output: twice, overheadMs: 0 });
      expect(plain([...readTrace(once, 'csv')])).toEqual(back);
      expect(readFileSync(twice, 'utf8')).toBe(readFileSync(once, 'utf8'));
    }), { numRuns: 60, seed: 19 });
  });

  it('an NGINX log imported, then re-imported as CSV, keeps every request (and anonymizing keeps identities apart)', async () => {
    const dir = tempDir();
    const log = traceFile('access.log', [
      '10.0.0.1 - - [05/Dec/2026:21:33:54 +0000] "GET /a HTTP/1.1" 200 1 "-" "ua" 0.013 0.010 10.0.0.5:80 1796506434.100',
      '10.0.0.2 - - [05/Dec/2026:21:33:54 +0000] "POST /b HTTP/1.1" 200 1 "-" "ua" 0.004 0.003 10.0.0.5:80 1796506434.090',
      '10.0.0.1 - - [05/Dec/2026:21:33:54 +0000] "GET /a HTTP/1.1" 200 1 "-" "ua" 0.002 0.001 10.0.0.6:80 1796506434.120',
    ], dir);
    const out = join(dir, 'out.csv');
    await importTrace({ input: log, format: 'nginx', output: out, overheadMs: 0.5 });
    expect(plain([...readTrace(out, 'csv')])).toEqual([
      { atMs: 1796506434086, client: '10.0.0.2', method: 'POST', path: '/b', upstreamMs: 2.5 },
      { atMs: 1796506434087, client: '10.0.0.1', method: 'GET', path: '/a', upstreamMs: 9.5 },
      { atMs: 1796506434118, client: '10.0.0.1', method: 'GET', path: '/a', upstreamMs: 0.5 },
    ]);
    const anon = join(dir, 'anon.csv');
    await importTrace({ input: log, format: 'nginx', output: anon, overheadMs: 0, anonymizeKey: 'k' });
    const rs = plain([...readTrace(anon, 'csv')]);
    expect(readFileSync(anon, 'utf8')).not.toMatch(/10\.0\.0|\/a|\/b/);
    expect(rs[1].client).toBe(rs[2].client);
    expect(rs[0].client).not.toBe(rs[1].client);
    expect(rs[1].path).toBe(rs[2].path);
  });
});

/** One CSV line the way csv-stringify quotes (the writer under test is not used to write its own input). */
function csvLine(fields: string[]): string {
  return fields.map((f) => (/[",\r\n]/.test(f) || f.trim() !== f ? `"${f.replace(/"/g, '""')}"` : f)).join(',');
}
