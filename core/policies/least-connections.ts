// Least connections: the candidate with the fewest attempts in flight per unit of weight
// (HAProxy leastconn, NGINX least_conn). Ties rotate, as NGINX does, so sequential traffic
// to idle identical servers spreads instead of always landing on the first.
import type { Backend, Candidates, Policy } from '../types.ts';
import { definePolicy } from './define.ts';

export class LeastConnections implements Policy {
  readonly name = 'least-connections';
  private offset = 0;

  setMembers(): void {}

  pick(c: Candidates): Backend {
    const list = c.list;
    const n = list.length;
    const start = this.offset++ % n;
    let best = list[start];
    let bestLoad = best.inFlight / best.effectiveWeight;
    for (let k = 1; k < n; k++) {
      const b = list[(start + k) % n];
      const load = b.inFlight / b.effectiveWeight;
      if (load < bestLoad) { best = b; bestLoad = load; }
    }
    if (this.offset >= 1 << 30) this.offset = 0;
    return best;
  }
}

export const leastConnections = definePolicy({
  name: 'least-connections',
  options: {},
  traits: { hashKey: false, liveWeights: true },
  create: () => new LeastConnections(),
});
