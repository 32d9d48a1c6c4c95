// Caddy 2.6 `lb_policy least_conn` (selectionpolicies.go LeastConnSelection.Select at
// v2.6.2): the available upstream with the fewest requests in flight (Host.NumRequests,
// counted per address in the global hosts pool, so it survives a config load); ties are
// broken by reservoir sampling, i.e. uniformly at random, never by position. The draws come
// from the balancer's seeded stream (Caddy: math/rand), so ties match in distribution.
import type { Backend, Candidates, Rng } from '../types.ts';
import { definePolicy } from './define.ts';
import { CaddyPolicy, intn } from './caddy-pool.ts';

export class CaddyLeastConn extends CaddyPolicy {
  readonly name = 'caddy-least-conn';

  constructor(private readonly rng: Rng) { super(); }

  pick(c: Candidates): Backend | undefined {
    let best: Backend | undefined;
    let count = 0;
    let least = -1;
    for (const b of this.pool) {
      if (!c.has(b)) continue;
      if (least === -1 || b.inFlight < least) {
        least = b.inFlight;
        count = 0;
      }
      if (b.inFlight === least) {
        count++;
        if (intn(this.rng, count) === 0) best = b;
      }
    }
    return best;
  }
}

export const caddyLeastConn = definePolicy({
  name: 'caddy-least-conn',
  options: {},
  traits: { hashKey: false, liveWeights: false },
  create: (_o, rng) => new CaddyLeastConn(rng),
});
