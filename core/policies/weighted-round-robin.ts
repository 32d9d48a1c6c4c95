// Smooth weighted round robin, as in NGINX's ngx_http_upstream_round_robin.c: every pick
// adds each candidate's weight to its running score, takes the highest, and subtracts the
// total from the winner. Weight 5:1:1 gives a,a,b,a,c,a,a — spread out, not bursts — and
// at every prefix each count is within one of its weight share. O(n) per pick by design.
import type { Backend, Candidates, Policy } from '../index.ts';

export class WeightedRoundRobin implements Policy {
  readonly name = 'weighted-round-robin';
  private readonly current = new Map<Backend, number>();

  setMembers(members: readonly Backend[]): void {
    const keep = new Set(members);
    for (const b of [...this.current.keys()]) if (!keep.has(b)) this.current.delete(b);
  }

  pick(c: Candidates): Backend {
    let best: Backend | undefined;
    let bestScore = -Infinity;
    for (const b of c.list) {
      const score = (this.current.get(b) ?? 0) + b.effectiveWeight;
      this.current.set(b, score);
      if (score > bestScore) { best = b; bestScore = score; }
    }
    this.current.set(best!, bestScore - c.totalWeight);
    return best!;
  }
}
