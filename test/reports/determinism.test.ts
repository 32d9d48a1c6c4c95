// Same inputs, same bytes: two report runs over the same results write identical CSVs,
// specs, SVGs, PNGs and pages, and nothing in them depends on where the files live.
import { describe, expect, it } from 'vitest';
import { buildReports } from '../../reports/build.ts';
import { EXPERIMENTS, scratchCopy, snapshot } from './helpers.ts';

describe('determinism', () => {
  it('running the report twice gives byte-identical files', async () => {
    const { root, remove } = await scratchCopy();
    try {
      const opts = { root, experimentsDir: EXPERIMENTS, png: true };
      await buildReports([], opts);
      const first = await snapshot(root);
      await buildReports([], opts);
      const second = await snapshot(root);

      const generated = [...first.keys()].filter((f) => /(^|\/)(charts|tables)\/|index\.html$|report\.json$/.test(f)).sort();
      expect(generated.length).toBeGreaterThan(100);
      for (const ext of ['.csv', '.vl.json', '.svg', '.png', '.html']) expect(generated.some((f) => f.endsWith(ext)), ext).toBe(true);
      expect([...second.keys()].sort()).toEqual([...first.keys()].sort());
      for (const f of generated) expect(second.get(f)!.equals(first.get(f)!), f).toBe(true);
      for (const f of generated.filter((g) => !g.endsWith('.png'))) expect(first.get(f)!.toString('utf8'), f).not.toContain(root);
    } finally {
      await remove();
    }
  });
});
