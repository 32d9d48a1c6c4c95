// Rendezvous / highest-random-weight hashing (Thaler & Ravishankar 1998): every
// candidate scores hash(key, backend) and the highest wins. Removing a backend moves only
// the keys it won (each goes to its runner-up); adding one takes ~1/(n + 1) of the keys,
// from everyone evenly. No table at all; O(n) per pick by design.
//
// Weighted as in Resendez's "weighted HRW" (and Envoy, Tengine): score = −w / ln(u) with
// u = hash / 2^32 in (0, 1). That is the rank of an Exp(w) draw, so backend b wins with
// probability w_b / Σw exactly, and changing one weight only moves keys to or from it.
// This reads `effectiveWeight` at pick time, so slow start ramps a new backend's share
// of keys smoothly — and only ever moves keys onto it.
import type { Backend, Candidates, PickContext, PickTrace, Policy } from '../types.ts';
import { definePolicy } from './define.ts';
import { murmur3, murmur3Pair } from '../hash.ts';
import { keyHashOf, traceStep } from './hashing.ts';

const TWO_POW_32 = 2 ** 32;

export class Rendezvous implements Policy {
  readonly name = 'rendezvous';
  /** murmur3(id) per member, computed off the hot path. */
  private idHashes = new Map<Backend, number>();
  /** The same hashes laid out along the last candidate list seen: the balancer reuses its
   *  list until health or membership changes, so most picks read an array, not a Map. */
  private listSeen: readonly Backend[] | undefined;
  private listHashes = new Uint32Array(0);

  setMembers(members: readonly Backend[]): void {
    this.idHashes = new Map(members.map((b) => [b, murmur3(b.id)]));
    this.listSeen = undefined;
  }

  pick(c: Candidates, ctx: PickContext, trace?: PickTrace): Backend {
    const keyHash = keyHashOf(ctx.hashKey);
    const uniform = c.uniformWeights;
    let best: Backend | undefined;
    let bestScore = -Infinity;
    let second: Backend | undefined;
    let secondScore = -Infinity;
    const list = c.list;
    const idHashes = this.hashesFor(list);
    for (let i = 0; i < list.length; i++) {
      const b = list[i];
      const h = murmur3Pair(keyHash, idHashes[i]);
      // Equal weights: −1/ln(u) is increasing in u, so the raw hash ranks the same way.
      const score = uniform ? h : -b.effectiveWeight / Math.log((h + 0.5) / TWO_POW_32);
      // Ties (equal 32-bit hashes) go to the lower id, so list order never matters.
      if (score > bestScore || (score === bestScore && best !== undefined && b.id < best.id)) {
        second = best; secondScore = bestScore;
        best = b; bestScore = score;
      } else if (score > secondScore) {
        second = b; secondScore = score;
      }
    }
    if (trace && best) { // the winner, and where its keys would go next
      traceStep(trace, best.id, bestScore);
      if (second) traceStep(trace, second.id, secondScore);
    }
    return best!; // candidates are never empty (Policy contract)
  }

  private hashesFor(list: readonly Backend[]): Uint32Array {
    if (list !== this.listSeen) {
      this.listHashes = Uint32Array.from(list, (b) => this.idHashes.get(b) ?? murmur3(b.id));
      this.listSeen = list;
    }
    return this.listHashes;
  }
}

export const rendezvous = definePolicy({
  name: 'rendezvous',
  options: {},
  traits: { hashKey: true, liveWeights: true },
  create: () => new Rendezvous(),
});
