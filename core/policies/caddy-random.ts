// Caddy 2.6 `lb_policy random`, its default policy (selectionpolicies.go RandomSelection →
// selectRandomHost at v2.6.2): reservoir sampling over the available upstreams, so each is
// equally likely. Caddy draws from math/rand seeded by the clock; the model draws from the
// balancer's seeded stream: counts match in distribution, not request by request.
import type { Backend, Candidates, Rng } from '../types.ts';
import { definePolicy } from './define.ts';
import { CaddyPolicy, reservoirPick } from './caddy-pool.ts';

export class CaddyRandom extends CaddyPolicy {
  readonly name = 'caddy-random';

  constructor(private readonly rng: Rng) { super(); }

  pick(c: Candidates): Backend | undefined {
    return reservoirPick(this.pool, c, this.rng);
  }
}

export const caddyRandom = definePolicy({
  name: 'caddy-random',
  options: {},
  traits: { hashKey: false, liveWeights: false },
  create: (_o, rng) => new CaddyRandom(rng),
});
