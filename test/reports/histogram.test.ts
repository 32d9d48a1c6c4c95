// The CDF and percentiles come from a bounded histogram: they must match exact order
// statistics to within the stated relative precision, and memory must not grow with rows.
import { describe, expect, it } from 'vitest';
import { LogHistogram } from '../../reports/histogram.ts';

/** Nearest-rank quantile over the sorted values: what the histogram approximates. */
function exactQuantile(sorted: number[], q: number): number {
  if (q <= 0) return sorted[0];
  if (q >= 1) return sorted[sorted.length - 1];
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1];
}

/** A seeded LCG, so the data is the same on every run (seed printed in the test name). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('LogHistogram', () => {
  it('is exact below 256 µs, whole-µs values', () => {
    const h = new LogHistogram();
    for (const v of [0.001, 0.002, 0.1, 0.25]) h.record(v);
    expect(h.quantilesMs([0.25, 0.5, 0.75, 1])).toEqual([0.001, 0.002, 0.1, 0.25]);
  });

  it('gives nearest-rank percentiles on small data: 10 … 100 ms', () => {
    const h = new LogHistogram();
    const values = [10, 20, 30, 40, 50, 100, 60, 70, 80, 90];
    for (const v of values) h.record(v);
    const [p50, p90, p99] = h.quantilesMs([0.5, 0.9, 0.99]);
    expect(p50).toBeCloseTo(50, 0);
    expect(p90).toBeCloseTo(90, 0);
    expect(p99).toBe(100); // clamped to the exact max
    expect(h.meanMs).toBe(55);
    expect(h.quantileMs(0)).toBe(10);
    expect(h.quantileMs(1)).toBe(100);
  });

  it.each([1, 7, 42])('matches the exact CDF within ±0.4 %% + 1 µs (seed %i, 20 000 lognormal values)', (seed) => {
    const rnd = lcg(seed);
    const values: number[] = [];
    const h = new LogHistogram();
    for (let i = 0; i < 20_000; i++) {
      // Box-Muller lognormal around 5 ms with a long tail; rounded to µs like the CSVs.
      const z = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
      const v = Math.round(5 * Math.exp(z) * 1000) / 1000;
      values.push(v);
      h.record(v);
    }
    values.sort((a, b) => a - b);
    const qs = [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1];
    const got = h.quantilesMs(qs);
    qs.forEach((q, i) => {
      const exact = exactQuantile(values, q);
      expect(Math.abs(got[i] - exact), `q=${q} exact=${exact} got=${got[i]} seed=${seed}`).toBeLessThanOrEqual(exact * h.relativePrecision + 0.001);
    });
  });

  it('keeps memory bounded: a million distinct values use a few thousand buckets', () => {
    const h = new LogHistogram();
    for (let i = 0; i < 1_000_000; i++) h.record(i * 0.0137);
    expect(h.bucketsUsed).toBeLessThan(2_000);
    expect(h.count).toBe(1_000_000);
  });

  it('merges like recording everything into one', () => {
    const a = new LogHistogram();
    const b = new LogHistogram();
    const all = new LogHistogram();
    for (let i = 1; i <= 100; i++) { (i % 2 ? a : b).record(i); all.record(i); }
    a.merge(b);
    expect(a.quantilesMs([0.1, 0.5, 0.9])).toEqual(all.quantilesMs([0.1, 0.5, 0.9]));
    expect(a.count).toBe(100);
  });
});
