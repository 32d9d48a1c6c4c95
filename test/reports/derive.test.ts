// The derived numbers: fidelity (relative error), per-run rows, sweep flattening, CDF rows.
import { describe, expect, it } from 'vitest';
import { CDF_QUANTILES, derive, fidelityRows, relativeError } from '../../reports/derive.ts';
import { loadExperimentResults } from '../../reports/load.ts';
import { runOf } from '../../reports/model.ts';
import { naturalCompare } from '../../reports/sort.ts';
import { fixtureOptions } from './helpers.ts';

describe('relative error = (live − sim) / |sim|', () => {
  it.each([
    [100, 110, 0.1],
    [100, 90, -0.1],
    [-50, -25, 0.5],
    [0, 0, 0],
  ])('sim %d, live %d → %d', (sim, live, want) => {
    expect(relativeError(sim, live)).toBeCloseTo(want, 12);
  });

  it('is null when only sim is 0: there is no scale to divide by', () => {
    expect(relativeError(0, 3)).toBeNull();
  });
});

describe('fidelity table (a1: sim and live)', () => {
  it('lists each metric with sim, live, difference and relative error in %', async () => {
    const e = await loadExperimentResults('a1', fixtureOptions);
    const rows = fidelityRows(runOf(e, e.keys[0], 'sim')!, runOf(e, e.keys[0], 'live')!);
    const by = (m: string) => rows.find((r) => r.metric === m)!;
    expect(by('requests')).toMatchObject({ sim: 10, live: 10, diff: 0, relErrorPct: 0 });
    expect(by('latency p50')).toMatchObject({ unit: 'ms', sim: 50, live: 60, diff: 10, relErrorPct: 20 });
    expect(by('failed')).toMatchObject({ sim: 1, live: 0, relErrorPct: -100 });
    expect(by('duration')).toMatchObject({ sim: 320, live: 400, relErrorPct: 25 });
    expect(by('attempts s1')).toMatchObject({ sim: 5, live: 4, relErrorPct: -20 });
    expect(by('max/mean load')).toMatchObject({ sim: 1.25, live: 1.2, relErrorPct: -4 });
    // stickiness needs requests.csv in both modes; live has none
    expect(rows.some((r) => r.metric === 'stickiness')).toBe(false);
    expect(rows.map((r) => r.metric).slice(-3)).toEqual(['attempts s1', 'attempts s2', 'attempts s3']);
  });
});

describe('derived tables', () => {
  it('per-run rows carry success, attempts per request and stickiness', async () => {
    const d = derive(await loadExperimentResults('a1', fixtureOptions));
    const sim = d.runs.find((r) => r.mode === 'sim')!;
    expect(sim).toMatchObject({ run: 'run', successPct: 90, attemptsPerRequest: 1.2, stickiness: 0.25, throughputPerSec: 31.25 });
    const live = d.runs.find((r) => r.mode === 'live')!;
    expect(live.stickiness).toBeNull();
  });

  it('flattens a sweep: one row per point and mode, sweepValue set, in file order', async () => {
    const d = derive(await loadExperimentResults('a2', fixtureOptions));
    expect(d.runs.map((r) => [r.sweepValue, r.mode, r.requests, r.latencyP50Ms])).toEqual([[2, 'sim', 600, 11], [3, 'sim', 600, 12], [4, 'sim', 600, 13]]);
    expect(d.servers.filter((r) => r.sweepValue === 4).map((r) => r.requests)).toEqual([150, 150, 150, 150]);
    expect(d.fidelity).toEqual([]);
  });

  it('variants × sweep rows name both the variant and the point', async () => {
    const d = derive(await loadExperimentResults('a6', fixtureOptions));
    expect(d.runs.map((r) => [r.variant, r.sweepValue])).toEqual([['v1', 2], ['v1', 3], ['v2', 2], ['v2', 3]]);
  });

  it('draws the CDF of answered requests at fixed quantiles, non-decreasing, from min to max', async () => {
    const d = derive(await loadExperimentResults('a1', fixtureOptions));
    const cdf = d.cdf.filter((r) => r.mode === 'sim');
    expect(cdf).toHaveLength(CDF_QUANTILES.length);
    expect(cdf[0].latencyMs).toBe(10);
    // The 100 ms request failed (502): failures are counted, not drawn as answered, so the CDF ends at 90 ms.
    expect(cdf[cdf.length - 1].latencyMs).toBe(90);
    for (let i = 1; i < cdf.length; i++) expect(cdf[i].latencyMs).toBeGreaterThanOrEqual(cdf[i - 1].latencyMs);
    expect(cdf.find((r) => r.quantile === 0.5)!.latencyMs).toBeCloseTo(50, 0);
  });

  it('turns timeline counts into per-second rates and counts routable servers', async () => {
    const d = derive(await loadExperimentResults('a3', fixtureOptions));
    const t = d.runTimeline.filter((r) => r.run === 'no-retry' && r.mode === 'sim');
    expect(t.map((r) => r.routableServers)).toEqual([3, 2, 3]);
    expect(t[0].attemptErrorsPerSec).toBe(10); // 1 error in a 100 ms bucket
    const s1 = d.serverTimeline.filter((r) => r.run === 'no-retry' && r.mode === 'sim' && r.server === 's1');
    expect(s1.map((r) => r.attemptsPerSec)).toEqual([10, 10, 10]);
  });

  it('orders servers numerically: s2 before s10', () => {
    expect(['s10', 's2', 's1', 'a', 's01'].sort(naturalCompare)).toEqual(['a', 's1', 's01', 's2', 's10']);
  });
});
