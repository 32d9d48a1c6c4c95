// requests.csv is git-ignored: the committed request-stats.json must stand in for it exactly,
// and must not stand in for results it was not computed from.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildReports } from '../../reports/build.ts';
import { REQUEST_STATS_FILE } from '../../reports/request-stats.ts';
import { EXPERIMENTS, scratchCopy, snapshot } from './helpers.ts';

const generated = (files: Map<string, Buffer>): string[] =>
  [...files.keys()].filter((f) => f.startsWith('a1/') && /(^|\/)tables\/|index\.html$|report\.json$|request-stats\.json$/.test(f)).sort();

describe('request-stats.json', () => {
  it('without requests.csv the report is byte-identical; with changed results the stale entry is dropped with a warning', async () => {
    const { root, remove } = await scratchCopy();
    try {
      const opts = { root, experimentsDir: EXPERIMENTS, png: false };
      await buildReports(['a1'], opts);
      const withCsv = await snapshot(root);
      const stats = JSON.parse(await readFile(join(root, 'a1', REQUEST_STATS_FILE), 'utf8')) as { runs: Record<string, { count: number }> };
      // Another proxy's runs are keyed by their own mode folder.
      expect(Object.keys(stats.runs)).toEqual(['sim/', 'sim-haproxy/']);
      expect(stats.runs['sim/'].count).toBeGreaterThan(0);

      // A fresh clone: no requests.csv. Every table and page comes out the same, CDF included.
      await rm(join(root, 'a1', 'sim', 'requests.csv'));
      await rm(join(root, 'a1', 'sim-haproxy', 'requests.csv'));
      await buildReports(['a1'], opts);
      const fromCache = await snapshot(root);
      expect(generated(fromCache)).toEqual(generated(withCsv));
      for (const f of generated(withCsv)) expect(fromCache.get(f)!.equals(withCsv.get(f)!), f).toBe(true);
      expect((await readFile(join(root, 'a1', 'tables', 'cdf.csv'), 'utf8')).split('\n').length).toBeGreaterThan(100);

      // The run's results change (a rerun without requests.csv): the aggregates no longer match.
      const summaryPath = join(root, 'a1', 'sim', 'summary.json');
      const summary = JSON.parse(await readFile(summaryPath, 'utf8')) as { durationMs: number };
      await writeFile(summaryPath, JSON.stringify({ ...summary, durationMs: summary.durationMs + 1 }, null, 2));
      const { built } = await buildReports(['a1'], opts);
      expect(built[0].warnings.join('\n')).toMatch(/request-stats\.json: sim\/ was computed from other results/);
      // Its CDF is left out (no table at all: nothing else has per-request data), not drawn from other results.
      expect(await readFile(join(root, 'a1', 'tables', 'cdf.csv'), 'utf8').catch(() => '')).not.toContain(',sim,');
      expect((await snapshot(root)).has('a1/charts/cdf.svg')).toBe(false);
    } finally {
      await remove();
    }
  });
});
