// Maglev hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load
// Balancer", NSDI 2016, §3.4; Envoy MAGLEV). Each backend walks its own permutation of a
// table of prime size M (offset = h1(id) mod M, skip = h2(id) mod (M − 1) + 1) and, taking
// turns, claims its next free entry. A lookup is one array read. Equal backends end up
// within one entry of M / n each; the price is that a membership change also reassigns a
// few entries of unchanged backends (the paper: "minimal disruption" is traded for balance).
//
// When the key's entry belongs to a non-candidate (unhealthy, ejected, already tried), we
// probe table[i + 1], table[i + 2], …: entries are interleaved pseudo-randomly, so that
// backend's keys spread over the others and no other key moves. Envoy instead rebuilds
// the table from healthy hosts; probing keeps health changes off the rebuild path.
//
// Built from `weight`, not `effectiveWeight` (rebuilt only on membership or weight
// changes; Envoy has no slow start for Maglev either).
import { z } from 'zod';
import type { Backend, Candidates, PickContext, PickTrace, Policy } from '../types.ts';
import { definePolicy } from './define.ts';
import { murmur3 } from '../hash.ts';
import { keyHashOf, pickByModulo, sortedById, traceStep } from './hashing.ts';

/** Envoy's default: prime, and ≥ 100 × backends for up to ~650 of them (the paper's advice). */
export const DEFAULT_MAGLEV_TABLE_SIZE = 65_537;
/** Two seeds give two independent hashes of the id, as Envoy's xxHash64(addr) / xxHash64(addr, 1). */
const OFFSET_SEED = 0;
const SKIP_SEED = 1;

export class Maglev implements Policy {
  readonly name = 'maglev';
  /** Entry → index into `members`; -1 only while there are no members. */
  private readonly table: Int32Array;
  /** Members in id order. */
  private members: readonly Backend[] = [];

  constructor(readonly tableSize: number = DEFAULT_MAGLEV_TABLE_SIZE) {
    // A composite size breaks the permutations (skip may share a factor with M) and the
    // fill would loop forever: refuse it here too, not only in the config schema.
    if (!isPrime(tableSize)) throw new Error(`maglev table size must be a prime >= 3, got ${tableSize}`);
    this.table = new Int32Array(tableSize).fill(-1);
  }

  setMembers(members: readonly Backend[]): void {
    this.members = sortedById(members);
    fillTable(this.table, this.members);
  }

  pick(c: Candidates, ctx: PickContext, trace?: PickTrace): Backend {
    const h = keyHashOf(ctx.hashKey);
    const members = this.members;
    if (members.length === 0) return pickByModulo(c, h);
    const table = this.table;
    const size = table.length;
    let i = h % size;
    for (let step = 0; step < size; step++) {
      const b = members[table[i]];
      if (trace) traceStep(trace, b.id);
      if (c.has(b)) return b;
      if (++i === size) i = 0;
    }
    return pickByModulo(c, h);
  }

  /** Table entries per backend id: the share each would get with every member a candidate. */
  entryCounts(): Map<string, number> {
    const counts = new Map<string, number>(this.members.map((b) => [b.id, 0]));
    if (this.members.length === 0) return counts;
    for (const idx of this.table) {
      const id = this.members[idx].id;
      counts.set(id, counts.get(id)! + 1);
    }
    return counts;
  }
}

export const maglev = definePolicy({
  name: 'maglev',
  options: {
    /** Lookup table size; must be prime (Envoy default 65537). */
    maglevTableSize: z.number().int().min(3).max(5_000_011).default(DEFAULT_MAGLEV_TABLE_SIZE)
      .refine(isPrime, { message: 'must be a prime number (e.g. 251, 65537, 655373)' }),
  },
  traits: { hashKey: true, liveWeights: false },
  create: (o) => new Maglev(o.maglevTableSize),
});

/**
 * The paper's Listing 1, weighted as Envoy does it: weights are normalised to the largest,
 * which claims an entry every turn; a backend of a third of that weight claims one every
 * third turn. Every turn places at least one entry and each permutation visits all M
 * entries (M prime), so the fill ends after M placements plus the probing: ~M ln M steps
 * in the worst case (the last free entries), a few ms for M = 65537 and any n.
 */
function fillTable(table: Int32Array, byId: readonly Backend[]): void {
  const size = table.length;
  const n = byId.length;
  table.fill(-1);
  if (n === 0) return;
  const position = new Uint32Array(n); // the next entry of each backend's permutation
  const skip = new Uint32Array(n);
  const relWeight = new Float64Array(n);
  const dueAt = new Float64Array(n); // turn × relWeight must reach this for the next claim
  let maxWeight = 0;
  for (const b of byId) maxWeight = Math.max(maxWeight, b.weight);
  for (let r = 0; r < n; r++) {
    const id = byId[r].id;
    position[r] = murmur3(id, OFFSET_SEED) % size;
    skip[r] = (murmur3(id, SKIP_SEED) % (size - 1)) + 1;
    relWeight[r] = byId[r].weight / maxWeight;
  }
  let filled = 0;
  for (let turn = 0; filled < size; turn++) {
    for (let r = 0; r < n && filled < size; r++) {
      if (turn * relWeight[r] < dueAt[r]) continue;
      dueAt[r] += 1;
      const step = skip[r];
      let e = position[r];
      while (table[e] !== -1) { e += step; if (e >= size) e -= size; }
      table[e] = r;
      e += step; if (e >= size) e -= size;
      position[r] = e;
      filled++;
    }
  }
}

function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 3) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}
