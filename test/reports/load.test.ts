// Reading results: single runs, sweeps (with a point listed only in the index), variants
// (with and without an index file), variants × sweep, and files read by header name.
import { describe, expect, it } from 'vitest';
import { loadExperimentResults } from '../../reports/load.ts';
import { keyLabel, runOf } from '../../reports/model.ts';
import { fixtureOptions } from './helpers.ts';

describe('loading results', () => {
  it('a single run in both modes: servers.csv read by header name, whatever the column order', async () => {
    const e = await loadExperimentResults('a1', fixtureOptions);
    expect(e.modes).toEqual(['sim', 'live']);
    expect(e.keys.map((k) => k.dir)).toEqual(['']);
    const live = runOf(e, e.keys[0], 'live')!;
    expect(live.servers).toEqual([
      { server: 's1', requests: 4, ok: 4, errors: 0 },
      { server: 's2', requests: 3, ok: 3, errors: 0 },
      { server: 's3', requests: 3, ok: 3, errors: 0 },
    ]);
    expect(live.requests).toBeNull(); // no requests.csv in live/
    expect(e.warnings).toEqual([]);
  });

  it('accepts tMs as the timeline time column (live) as well as bucketStartMs (sim)', async () => {
    const e = await loadExperimentResults('a1', fixtureOptions);
    for (const mode of ['sim', 'live'] as const) {
      const t = runOf(e, e.keys[0], mode)!.timeline!;
      expect(t.bucketMs).toBe(100);
      expect(t.rows.filter((r) => r.server === 's1').map((r) => r.tMs)).toEqual([0, 100, 200, 300]);
    }
  });

  it('streams requests.csv into attempts, outcomes, stickiness and time buckets', async () => {
    const e = await loadExperimentResults('a1', fixtureOptions);
    const r = runOf(e, e.keys[0], 'sim')!.requests!;
    expect(r.count).toBe(10);
    expect(r.failed).toBe(1);
    expect([...r.attempts]).toEqual([[1, 8], [2, 2]]);
    expect(Object.fromEntries(r.outcomes)).toEqual({ ok: 9, error: 1 });
    // Two clients alternate; of the 8 requests with a previous one, 2 return to the same first server.
    // Both clients come back and both change server at least once: 2 of 2 moved.
    expect(r.stickiness).toMatchObject({ same: 2, eligible: 8, clientsTracked: 2, clientsCapped: false, repeatClients: 2, movedClients: 2 });
    // By completion time: ends at 10 20 40 60 90 | 150 160(failed) | 230 230 | 320.
    expect(r.buckets.map((b) => [b.tMs, b.completed, b.failed])).toEqual([[0, 5, 0], [100, 2, 1], [200, 2, 0], [300, 1, 0]]);
  });

  it('a sweep: points in file order, and a point listed only in the index still reports its summary', async () => {
    const e = await loadExperimentResults('a2', fixtureOptions);
    expect(e.sweep).toEqual({ path: 'servers.count', values: [2, 3, 4] });
    expect(e.variants).toBeNull();
    expect(e.keys.map((k) => [k.dir, k.point?.value, k.point?.index])).toEqual([
      ['servers.count=2', 2, 0], ['servers.count=3', 3, 1], ['servers.count=4', 4, 2],
    ]);
    const four = runOf(e, e.keys[2], 'sim')!;
    expect(four.servers.map((s) => s.server)).toEqual(['s1', 's2', 's3', 's4']);
    expect(four.timeline).toBeNull();
    expect(e.modes).toEqual(['sim']);
  });

  it('variants: from the index in sim/, from the folders alone in live/ (no index there)', async () => {
    const e = await loadExperimentResults('a3', fixtureOptions);
    expect(e.variants).toEqual(['no-retry', 'retry']);
    expect(e.keys.map(keyLabel)).toEqual(['no-retry', 'retry']);
    for (const key of e.keys) {
      expect(runOf(e, key, 'sim')).toBeDefined();
      expect(runOf(e, key, 'live')).toBeDefined();
    }
    expect(runOf(e, e.keys[1], 'live')!.summary.requests.retries).toBe(2);
  });

  it('variants × sweep: a variant with no folder is reported from the index alone', async () => {
    const e = await loadExperimentResults('a6', fixtureOptions);
    expect(e.variants).toEqual(['v1', 'v2']);
    expect(e.sweep).toEqual({ path: 'servers.count', values: [2, 3] });
    expect(e.keys.map((k) => k.dir)).toEqual(['v1/servers.count=2', 'v1/servers.count=3', 'v2/servers.count=2', 'v2/servers.count=3']);
    expect(e.keys.map(keyLabel)).toEqual([
      'v1 · servers.count = 2', 'v1 · servers.count = 3', 'v2 · servers.count = 2', 'v2 · servers.count = 3',
    ]);
  });

  it('reads fault markers from the experiment file, per variant folder', async () => {
    const e = await loadExperimentResults('a3', fixtureOptions);
    expect(e.description).toMatch(/Kill s2/);
    expect(e.markers.get('retry')).toEqual([{ tMs: 100, label: 'kill s2' }, { tMs: 200, label: 'restart s2' }]);
  });

  it('works without an experiments folder (no markers, no description)', async () => {
    const e = await loadExperimentResults('a3', { ...fixtureOptions, experimentsDir: null });
    expect(e.markers.size).toBe(0);
    expect(e.description).toBe('');
  });
});
