// Smooth weighted round robin, as in NGINX's ngx_http_upstream_round_robin.c: every pick
// adds each candidate's weight to its running score, takes the highest, and subtracts the
// total from the winner. Weight 5:1:1 gives a,a,b,a,c,a,a — spread out, not bursts — and
// at every prefix each count is within one of its weight share. O(n) per pick by design.
import type { Backend, Candidates, Policy } from '../types.ts';
import { definePolicy } from './define.ts';

export class WeightedRoundRobin implements Policy {
  readonly name = 'weighted-round-robin';
  /** Running scores indexed by Backend.seq: an array index is far cheaper than a Map lookup. */
  private current: number[] = [];

  setMembers(members: readonly Backend[]): void {
    const next: number[] = [];
    for (const b of members) next[b.seq] = this.current[b.seq] ?? 0;
    this.current = next;
  }

  pick(c: Candidates): Backend {
    const current = this.current;
    let best = c.list[0];
    let bestScore = -Infinity;
    for (const b of c.list) {
      const score = (current[b.seq] ?? 0) + b.effectiveWeight;
      current[b.seq] = score;
      if (score > bestScore) { best = b; bestScore = score; }
    }
    current[best.seq] = bestScore - c.totalWeight;
    return best;
  }
}

export const weightedRoundRobin = definePolicy({
  name: 'weighted-round-robin',
  options: {},
  traits: { hashKey: false, liveWeights: true },
  create: () => new WeightedRoundRobin(),
});
