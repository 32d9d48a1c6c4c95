// The calibration fit is arithmetic on measurements: given data with a known answer, it
// must find that answer.
import { describe, expect, it } from 'vitest';
import { sample } from '../../core/distributions.ts';
import { rngStream } from '../../core/rng.ts';
import { cpuPerRequestMs, errorPct, fitNetwork } from '../../live/calibrate/fit.ts';

/** Latencies = two 0.3 ms hops + 0.08 ms CPU + lognormal(median 0.25, sigma 1.1). */
function proxied(n: number): number[] {
  const rng = rngStream(3, 'fit-test');
  return Array.from({ length: n }, () => 0.6 + 0.08 + sample({ dist: 'lognormal', median: 0.25, sigma: 1.1 }, rng));
}

describe('calibration fit', () => {
  it('CPU per request is the slope between load levels: a constant idle cost cancels', () => {
    // 40 ms/s idle + 0.06 ms per request, at 300/s for 10 s and 1200/s for 8 s.
    const level = (rate: number, seconds: number) => ({ ratePerSec: rate, requests: rate * seconds, durationMs: seconds * 1000, cpuMs: (40 + 0.06 * rate) * seconds });
    expect(cpuPerRequestMs([level(1200, 8), level(300, 10)])).toBeCloseTo(0.06, 9);
    expect(() => cpuPerRequestMs([level(300, 10)])).toThrow(/two load levels per round/);
    expect(() => cpuPerRequestMs([level(300, 10), level(300, 8)])).toThrow(/two different request rates/);
  });

  it('CPU per request is the median of the rounds\' slopes: one disturbed level moves one slope', () => {
    const level = (rate: number, perRequestMs: number) => ({ ratePerSec: rate, requests: rate * 10, durationMs: 10_000, cpuMs: (40 + perRequestMs * rate) * 10 });
    // Round 2's low level caught 0.1 ms a request of someone else's work: its slope drops to 0.02.
    const rounds = [level(300, 0.06), level(1200, 0.06), level(300, 0.18), level(1200, 0.06), level(300, 0.06), level(1200, 0.07)];
    expect(cpuPerRequestMs(rounds)).toBeCloseTo(0.06, 9);
    expect(cpuPerRequestMs(rounds.slice(0, 4))).toBeCloseTo((0.06 + 0.02) / 2, 9); // two rounds: their mean
  });

  it('recovers the overhead lognormal, the hop and the CPU station from latencies built with them', () => {
    const network = fitNetwork({ proxiedMs: proxied(200_000), directRttMs: 0.6, cpuPerRequestMs: 0.08, workers: 1 });
    expect(network.proxyToServerMs).toEqual({ dist: 'constant', value: 0.3 });
    expect(network.proxyCpu).toEqual({ requestMs: { dist: 'constant', value: 0.04 }, responseMs: { dist: 'constant', value: 0.04 }, workers: 1 });
    const overhead = network.proxyOverheadMs!;
    expect(overhead.dist).toBe('lognormal');
    if (overhead.dist !== 'lognormal') return;
    expect(overhead.median).toBeCloseTo(0.25, 2); // the histogram resolves 1 µs
    // The mean/median ratio converges slowly with sigma 1.1 (a long tail): 3 % on sigma.
    expect(Math.abs(overhead.sigma - 1.1) / 1.1).toBeLessThan(0.03);
  });

  it('a direct round trip slower than the fastest proxied requests is capped: the model never starts above the data', () => {
    const latencies = proxied(20_000);
    const network = fitNetwork({ proxiedMs: latencies, directRttMs: 5, cpuPerRequestMs: 0.08, workers: 1 });
    const hop = network.proxyToServerMs;
    const fastest = [...latencies].sort((a, b) => a - b)[Math.floor(latencies.length * 0.05)];
    expect(hop?.dist === 'constant' && 2 * hop.value + 0.08).toBeLessThanOrEqual(fastest + 0.001);
    expect(network.proxyOverheadMs).toBeDefined();
  });

  it('no CPU measured, no station; error is (sim − live) / live in %', () => {
    expect(fitNetwork({ proxiedMs: proxied(1_000), directRttMs: 0.6, cpuPerRequestMs: 0, workers: 1 }).proxyCpu).toBeUndefined();
    expect(errorPct({ mean: 1.1, p50: 0.9, p99: 5 }, { mean: 1, p50: 1, p99: 5 })).toEqual({ mean: 10, p50: -10, p99: 0 });
  });
});
