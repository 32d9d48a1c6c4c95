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
import type { HashTable } from './table.ts';

const TWO_POW_32 = 2 ** 32;

/**
 * The policy scores only the candidates, in one pass: the same winner as the first
 * candidate on RendezvousTable's walk (equal weights rank by raw hash either way), without
 * scoring the rest.
 */
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
      const score = scoreOf(murmur3Pair(keyHash, idHashes[i]), b, uniform);
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

/** Rendezvous as a table (table.ts), for wrappers such as bounded load: the walk visits members by falling score. */
export class RendezvousTable implements HashTable {
  private readonly idHashes: Uint32Array;

  constructor(readonly members: readonly Backend[]) {
    this.idHashes = Uint32Array.from(members, (b) => murmur3(b.id));
  }

  /** Scores every member once, then takes the best not yet visited: O(n) per step, and a walk rarely takes more than two. */
  walk(keyHash: number, accept: (b: Backend) => boolean): Backend | undefined {
    const members = this.members;
    const n = members.length;
    let uniform = true;
    for (let i = 1; i < n; i++) if (members[i].effectiveWeight !== members[0].effectiveWeight) uniform = false;
    const scores = new Float64Array(n);
    for (let i = 0; i < n; i++) scores[i] = scoreOf(murmur3Pair(keyHash, this.idHashes[i]), members[i], uniform);
    for (let step = 0; step < n; step++) {
      let best = -1;
      for (let i = 0; i < n; i++) {
        if (scores[i] === -Infinity) continue;
        if (best < 0 || scores[i] > scores[best] || (scores[i] === scores[best] && members[i].id < members[best].id)) best = i;
      }
      scores[best] = -Infinity;
      if (accept(members[best])) return members[best];
    }
    return undefined;
  }
}

/** Equal weights: −1/ln(u) is increasing in u, so the raw hash ranks the same way. */
function scoreOf(pairHash: number, b: Backend, uniform: boolean): number {
  return uniform ? pairHash : -b.effectiveWeight / Math.log((pairHash + 0.5) / TWO_POW_32);
}

export const rendezvous = definePolicy({
  name: 'rendezvous',
  options: {},
  traits: { hashKey: true, liveWeights: true },
  create: () => new Rendezvous(),
});
