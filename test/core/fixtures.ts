// Small builders for policy tests: backends, candidate sets, reproducible key sets and
// tallies. Statistical properties draw one integer seed from fast-check and expand it
// here, so a failure replays from the seed fast-check prints.
import fc from 'fast-check';
import { CandidateSet, type Backend, type Policy } from '../../core/index.ts';

/** One backend as the balancer would create it: `seq` = insertion order. */
export function backend(id: string, seq: number, weight = 1): Backend {
  return { id, seq, weight, effectiveWeight: weight, inFlight: 0 };
}

export function backends(ids: readonly string[], weightOf: (i: number) => number = () => 1): Backend[] {
  return ids.map((id, i) => backend(id, i, weightOf(i)));
}

export function candidates(list: readonly Backend[]): CandidateSet {
  return new CandidateSet(list);
}

/** mulberry32: a tiny seeded PRNG, enough to spread test keys and ids. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const octet = (r: () => number) => Math.floor(r() * 256);

/** `count` client addresses ("a.b.c.d"), the keys the proxy hashes. Repeats are possible, as in real traffic. */
export function keySet(count: number, seed: number): string[] {
  const r = prng(seed);
  return Array.from({ length: count }, () => `${octet(r)}.${octet(r)}.${octet(r)}.${octet(r)}`);
}

/** `count` distinct backend ids ("10.x.y.z:port"). */
export function idSet(count: number, seed: number): string[] {
  const r = prng(seed ^ 0x5bd1e995);
  const ids = new Set<string>();
  while (ids.size < count) ids.add(`10.${octet(r)}.${octet(r)}.${octet(r)}:${8000 + Math.floor(r() * 100)}`);
  return [...ids];
}

/** Builds `policy` over `members` and returns the backend id each key maps to (all members candidates). */
export function assign(policy: Policy, members: readonly Backend[], keys: readonly string[], cands: CandidateSet = candidates(members)): string[] {
  policy.setMembers(members);
  return pickAll(policy, cands, keys);
}

/** Picks for every key without rebuilding. */
export function pickAll(policy: Policy, cands: CandidateSet, keys: readonly string[]): string[] {
  return keys.map((hashKey) => policy.pick(cands, { nowMs: 0, hashKey })!.id);
}

/** Keys per backend id (every id present, zeros included). */
export function tally(ids: readonly string[], assigned: readonly string[]): Map<string, number> {
  const counts = new Map(ids.map((id) => [id, 0]));
  for (const id of assigned) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/** Largest count over the mean count. */
export function maxOverMean(counts: Map<string, number>): number {
  const values = [...counts.values()];
  const mean = values.reduce((s, x) => s + x, 0) / values.length;
  return Math.max(...values) / mean;
}

export function movedFraction(before: readonly string[], after: readonly string[]): number {
  let moved = 0;
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) moved++;
  return moved / before.length;
}

/**
 * Upper bound on max/mean for counts that are Binomial(N, p): 1 + z·σ_rel with
 * σ_rel = sqrt((1 − p) / (N·p)). z = 5 leaves < 1e-5 chance of a false alarm per backend.
 */
export function binomialMaxOverMean(keys: number, p: number, z = 5): number {
  return 1 + z * Math.sqrt((1 - p) / (keys * p));
}

/** Arbitrary distinct backend ids, shrinkable. */
export function arbIds(minLength: number, maxLength: number): fc.Arbitrary<string[]> {
  const id = fc.tuple(fc.nat(255), fc.nat(255), fc.integer({ min: 8000, max: 8009 }))
    .map(([a, b, port]) => `10.0.${a}.${b}:${port}`);
  return fc.uniqueArray(id, { minLength, maxLength });
}

/** Arbitrary client keys, including the odd non-address and the empty string. */
export const arbKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 9, arbitrary: fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.')) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);
