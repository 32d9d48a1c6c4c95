// A settled attempt's timeout is cancelled, not left to fire as a no-op: a run far longer
// than the timeout handles no timer events at all (and holds no object per pending timer).
import { describe, expect, it } from 'vitest';
import { configs, simulate } from './helpers.ts';

describe('attempt timeouts', () => {
  // perTryMs: every timer is exactly the lane's delay. requestMs alone: the deadline's remainder
  // (deadlineMs − nowMs) is often an ulp off it, and such timers must be cancellable too.
  for (const timeouts of [{ perTryMs: 100 }, { requestMs: 100 }]) {
    it(`a run 40× longer than the timeout handles only arrival and service-done per request (${JSON.stringify(timeouts)})`, () => {
      const { sim, recorder } = simulate(configs({
        name: 'timers',
        seed: 3,
        servers: { count: 3, template: { serviceTimeMs: { dist: 'exponential', mean: 5 } } },
        workload: { requests: 500, arrival: { process: 'poisson', ratePerSec: 100 } },
        timeouts,
        balancer: { policy: 'round-robin' },
      })[0]);
      expect(recorder.requests.every((r) => r.status === 200)).toBe(true);
      expect(sim.nowMs).toBeGreaterThan(40 * 100);
      expect(sim.eventsHandled - recorder.buckets.length).toBe(2 * 500);
    });
  }
});
