// Maglev hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load
// Balancer", NSDI 2016, §3.4; Envoy MAGLEV). Each backend walks its own permutation of a
// table of prime size M (offset = h1(id) mod M, skip = h2(id) mod (M − 1) + 1) and, taking
// turns, claims its next free entry. A lookup is one array read. Equal backends end up
// within one entry of M / n each; the price is that a membership change also reassigns a
// few entries of unchanged backends (the paper: "minimal disruption" is traded for balance).
//
// When the key's entry belongs to a non-candidate (unhealthy, ejected, already tried), the
// walk probes table[i + 1], table[i + 2], …: entries are interleaved pseudo-randomly, so
// that backend's keys spread over the others and no other key moves. Envoy instead rebuilds
// the table from healthy hosts; probing keeps health changes off the rebuild path.
//
// Built from `weight`, not `effectiveWeight` (rebuilt only on membership or weight
// changes; Envoy has no slow start for Maglev either).
import { z } from 'zod';
import type { Backend, Candidates, PickContext, PickTrace, Policy } from '../types.ts';
import { definePolicy } from './define.ts';
import { murmur3 } from '../hash.ts';
import { keyHashOf, pickByModulo, sortedById } from './hashing.ts';
import { type HashTable, lookup } from './table.ts';

/** Envoy's default: prime, and ≥ 100 × backends for up to ~650 of them (the paper's advice). */
export const DEFAULT_MAGLEV_TABLE_SIZE = 65_537;
/** Two seeds give two independent hashes of the id, as Envoy's xxHash64(addr) / xxHash64(addr, 1). */
const OFFSET_SEED = 0;
const SKIP_SEED = 1;

/** A filled Maglev lookup table (table.ts): entry → member; a walk reads entries i, i + 1, … */
export class MaglevTable implements HashTable {
  private constructor(
    /** Members in id order. */
    readonly members: readonly Backend[],
    /** Entry → index into `members`; -1 only while there are no members. */
    private readonly entries: Int32Array,
  ) {}

  static build(members: readonly Backend[], size: number): MaglevTable {
    // A composite size breaks the permutations (skip may share a factor with M) and the
    // fill would loop forever: refuse it here too, not only in the config schema.
    if (!isPrime(size)) throw new Error(`maglev table size must be a prime >= 3, got ${size}`);
    const byId = sortedById(members);
    const entries = new Int32Array(size);
    fillTable(entries, byId);
    return new MaglevTable(byId, entries);
  }

  /**
   * From the key's entry onwards. Entries are interleaved pseudo-randomly, so a
   * non-candidate's keys spread over the others and no other key moves.
   */
  walk(keyHash: number, accept: (b: Backend) => boolean): Backend | undefined {
    const { members, entries } = this;
    if (members.length === 0) return undefined;
    const size = entries.length;
    let i = keyHash % size;
    for (let step = 0; step < size; step++) {
      const b = members[entries[i]];
      if (accept(b)) return b;
      if (++i === size) i = 0;
    }
    return undefined;
  }

  /** Table entries per backend id: the share each would get with every member a candidate. */
  entryCounts(): Map<string, number> {
    const counts = new Map<string, number>(this.members.map((b) => [b.id, 0]));
    if (this.members.length === 0) return counts;
    for (const idx of this.entries) {
      const id = this.members[idx].id;
      counts.set(id, counts.get(id)! + 1);
    }
    return counts;
  }
}

export class Maglev implements Policy {
  readonly name = 'maglev';
  private table: MaglevTable;

  constructor(readonly tableSize: number = DEFAULT_MAGLEV_TABLE_SIZE) {
    this.table = MaglevTable.build([], tableSize);
  }

  setMembers(members: readonly Backend[]): void {
    this.table = MaglevTable.build(members, this.tableSize);
  }

  pick(c: Candidates, ctx: PickContext, trace?: PickTrace): Backend {
    const h = keyHashOf(ctx.hashKey);
    return lookup(this.table, c, h, trace) ?? pickByModulo(c, h);
  }

  entryCounts(): Map<string, number> { return this.table.entryCounts(); }
}

/** Lookup table size; must be prime (Envoy default 65537). Maglev and bounded-load over Maglev own it. */
export const maglevTableSizeOption = z.number().int().min(3).max(5_000_011).default(DEFAULT_MAGLEV_TABLE_SIZE)
  .refine(isPrime, { message: 'must be a prime number (e.g. 251, 65537, 655373)' });

export const maglev = definePolicy({
  name: 'maglev',
  options: { maglevTableSize: maglevTableSizeOption },
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
