// A settled attempt's timeout is cancelled, not left to fire as a no-op: a run far longer
// than the timeout handles no timer events at all (and holds no object per pending timer).
import { describe, expect, it } from 'vitest';
import { configs, simulate } from './helpers.ts';

describe('attempt timeouts', () => {
  it('a run 40× longer than the timeout handles only arrival and service-done per request', () => {
    const { sim, recorder } = simulate(configs({
      name: 'timers',
      seed: 3,
      servers: { count: 3, template: { serviceTimeMs: { dist: 'exponential', mean: 5 } } },
      workload: { requests: 500, arrival: { process: 'poisson', ratePerSec: 100 } },
      timeouts: { perTryMs: 100 }, // exactly the lane's delay for every attempt (a deadline's remainder can be an ulp off)
      balancer: { policy: 'round-robin' },
    })[0]);
    expect(recorder.requests.every((r) => r.status === 200)).toBe(true);
    expect(sim.nowMs).toBeGreaterThan(40 * 100);
    expect(sim.eventsHandled - recorder.buckets.length).toBe(2 * 500);
  });
});
