// Property tests for the hashing policies: ip-hash (modulo, kept for comparison),
// ring-hash (ketama and the CLB 512×9 layout), maglev, rendezvous and bounded-load.
// Exact properties (determinism, candidates only, what moves on removal or ejection, the
// load bound) run on fast-check's random seeds. Statistical ones (shares, moved
// fractions) draw one seed per run and assert a tolerance of about five standard
// deviations, justified next to each; the numbers in comments were measured over 100–200
// random backend sets. fast-check prints the seed and path of any failure.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  Balancer, BalancerSchema, type Backend, type Policy, murmur3, newTrace,
} from '../../core/index.ts';
import { IpHash } from '../../core/policies/ip-hash.ts';
import { RingHash } from '../../core/policies/ring-hash.ts';
import { Maglev } from '../../core/policies/maglev.ts';
import { Rendezvous } from '../../core/policies/rendezvous.ts';
import { BoundedLoad } from '../../core/policies/bounded-load.ts';
import { Ring } from '../../core/policies/ring.ts';
import { MaglevTable } from '../../core/policies/maglev.ts';
import { RendezvousTable } from '../../core/policies/rendezvous.ts';
import { type TableBuilder, lookup } from '../../core/policies/table.ts';
import {
  arbIds, arbKey, assign, backend, backends, binomialMaxOverMean, candidates, idSet, keySet, maxOverMean,
  movedFraction, pickAll, prng, tally,
} from './fixtures.ts';

type Factory = () => Policy;
const ketama: Factory = () => new RingHash({ vnodes: 160 });
const clb: Factory = () => new RingHash({ slots: 512, vnodes: 9 });
const maglev: Factory = () => new Maglev();
const rendezvous: Factory = () => new Rendezvous();
const bounded: Factory = () => new BoundedLoad({ table: (m) => Ring.build(m, { vnodes: 160 }), balanceFactor: 1.25 });
const ipHash: Factory = () => new IpHash();

const ALL: Array<[string, Factory]> = [
  ['ip-hash', ipHash], ['ring-hash', ketama], ['ring-hash clb-512x9', clb], ['maglev', maglev],
  ['rendezvous', rendezvous], ['bounded-load', bounded],
];
/** Policies whose table depends only on the (id, weight) set; ip-hash indexes the seq-ordered list. */
const ORDER_FREE = ALL.filter(([name]) => name !== 'ip-hash');
/** The consistent policies whose key movement is measured against 1/(n + 1). */
const CONSISTENT: Array<[string, Factory]> = [['ring-hash', ketama], ['maglev', maglev], ['rendezvous', rendezvous]];

const KEYS = 10_000;
const seedArb = fc.integer({ min: 0, max: 0x7fffffff });

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const r = prng(seed);
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe('determinism', () => {
  it.each(ALL)('%s: same membership + same key ⇒ same backend, whatever was picked before', (_name, make) => {
    fc.assert(fc.property(
      arbIds(1, 12), fc.array(arbKey, { minLength: 1, maxLength: 30 }), fc.array(arbKey, { maxLength: 10 }),
      (ids, keys, noise) => {
        const a = make();
        const b = make();
        const ma = backends(ids);
        const mb = backends(ids);
        const first = assign(a, ma, keys);
        b.setMembers(mb);
        const cb = candidates(mb);
        const second: string[] = [];
        for (let i = keys.length - 1; i >= 0; i--) { // reverse order, other keys in between
          for (const k of noise) b.pick(cb, { nowMs: 0, hashKey: k });
          second[i] = b.pick(cb, { nowMs: 0, hashKey: keys[i] })!.id;
        }
        expect(second).toEqual(first);
        expect(pickAll(a, candidates(ma), keys)).toEqual(first); // and again on the same instance
      },
    ), { numRuns: 40 });
  });

  it.each(ORDER_FREE)('%s: the order backends were added in does not matter (tables follow ids)', (_name, make) => {
    fc.assert(fc.property(arbIds(2, 12), fc.array(arbKey, { minLength: 1, maxLength: 30 }), seedArb, (ids, keys, seed) => {
      const inOrder = assign(make(), backends(ids), keys);
      const reordered = assign(make(), backends(shuffled(ids, seed)), keys);
      expect(reordered).toEqual(inOrder);
    }), { numRuns: 40 });
  });

  it.each(ALL)('%s: a missing hashKey hashes as the empty string', (_name, make) => {
    const members = backends(idSet(7, 1));
    const p = make();
    p.setMembers(members);
    const c = candidates(members);
    expect(p.pick(c, { nowMs: 0 })).toBe(p.pick(c, { nowMs: 0, hashKey: '' }));
  });
});

describe('picks come from the candidates only', () => {
  const memberSpec = fc.record({
    weight: fc.constantFrom(0.5, 1, 2, 3),
    inFlight: fc.nat(20),
    candidate: fc.boolean(),
  });

  it.each(ALL)('%s never returns a non-candidate (any subset, weights, loads, traced or not)', (_name, make) => {
    fc.assert(fc.property(
      fc.array(memberSpec, { minLength: 1, maxLength: 15 }), fc.array(arbKey, { minLength: 1, maxLength: 20 }),
      (specs, keys) => {
        const members = specs.map((s, i) => ({ ...backend(`b${i}`, i, s.weight), inFlight: s.inFlight }));
        let allowed = members.filter((_, i) => specs[i].candidate);
        if (allowed.length === 0) allowed = [members[members.length - 1]];
        const c = candidates(allowed);
        const p = make();
        p.setMembers(members);
        for (const hashKey of keys) {
          expect(c.has(p.pick(c, { nowMs: 0, hashKey })!)).toBe(true);
          expect(c.has(p.pick(c, { nowMs: 0, hashKey }, newTrace())!)).toBe(true);
        }
      },
    ), { numRuns: 60 });
  });

  it.each(ALL)('%s still answers from the candidates when it was never told the members', (_name, make) => {
    const c = candidates(backends(['x', 'y', 'z']));
    expect(c.has(make().pick(c, { nowMs: 0, hashKey: '1.2.3.4' })!)).toBe(true);
  });

  it('backends left without a slot (CLB ring full, Maglev table smaller than n) are still reachable', () => {
    const members = backends(idSet(80, 2)); // 80 × 9 vnodes > 512 slots
    for (const p of [clb(), new Maglev(3)]) {
      p.setMembers(members);
      for (const only of members) {
        const c = candidates([only]);
        expect(p.pick(c, { nowMs: 0, hashKey: '9.9.9.9' })).toBe(only);
      }
    }
  });
});

describe('membership changes', () => {
  // Adding one backend to n should move ~1/(n + 1) of the keys: the newcomer's share.
  // Tolerance ±50 % relative. Noise: 10k keys sample the share with σ_rel ≤ 5.6 % (n = 30:
  // ~323 keys); ring-hash adds the newcomer's arc-length spread, σ_rel ≈ 1/√160 = 7.9 %.
  // ±50 % is over 5σ for every policy. Measured worst |moved·(n+1) − 1| over 100 sets: maglev 0.34.
  it.each(CONSISTENT)('%s: adding one backend to n moves ~1/(n + 1) of the keys, all to the newcomer', (name, make) => {
    fc.assert(fc.property(fc.integer({ min: 3, max: 30 }), seedArb, (n, seed) => {
      const all = backends(idSet(n + 1, seed));
      const keys = keySet(KEYS, seed);
      const before = assign(make(), all.slice(0, n), keys);
      const after = assign(make(), all, keys);
      const expected = 1 / (n + 1);
      const moved = movedFraction(before, after);
      expect(moved).toBeGreaterThan(0.5 * expected);
      expect(moved).toBeLessThan(1.5 * expected);
      const newcomer = all[n].id;
      const elsewhere = before.filter((id, i) => id !== after[i] && after[i] !== newcomer).length / KEYS;
      // Ring and rendezvous: exactly none. Maglev re-deals a few entries among the old
      // backends when the permutations re-interleave (paper §3.4: balance over minimal
      // disruption). Measured with M = 65537, n = 3…50: mean 0.34 %, worst 0.74 % of keys.
      expect(elsewhere).toBeLessThanOrEqual(name === 'maglev' ? 0.02 : 0);
    }), { numRuns: 12 });
  });

  it.each(CONSISTENT)('%s: removing one backend moves only its keys', (name, make) => {
    fc.assert(fc.property(fc.integer({ min: 3, max: 30 }), seedArb, fc.nat(), (n, seed, which) => {
      const all = backends(idSet(n, seed));
      const gone = all[which % n];
      const keys = keySet(KEYS, seed);
      const before = assign(make(), all, keys);
      const after = assign(make(), all.filter((b) => b !== gone), keys);
      const others = before.filter((id, i) => id !== gone.id && after[i] !== id).length / KEYS;
      // Exactly zero for the ring and rendezvous. Maglev: measured mean 0.33 %, worst 0.72 %
      // of all keys (M = 65537, n ≤ 50); M = 655373 gives 0.09 %, M = 251 gives 6 %.
      expect(others).toBeLessThanOrEqual(name === 'maglev' ? 0.02 : 0);
      expect(after.some((id) => id === gone.id)).toBe(false);
    }), { numRuns: 12 });
  });

  it('ip-hash by modulo moves most keys when a 4th backend joins 3 (finding A-4)', () => {
    // Keys stay only if h mod 3 = h mod 4, i.e. h mod 12 ∈ {0, 1, 2}: 75 % move. Sampling
    // σ over 10k keys is 0.4 %; the ±5 % window is > 10σ. Measured: 0.75 ± 0.01.
    fc.assert(fc.property(seedArb, (seed) => {
      const all = backends(idSet(4, seed));
      const keys = keySet(KEYS, seed);
      const moved = movedFraction(assign(ipHash(), all.slice(0, 3), keys), assign(ipHash(), all, keys));
      expect(moved).toBeGreaterThan(0.5);
      expect(Math.abs(moved - 0.75)).toBeLessThan(0.05);
    }), { numRuns: 10 });
  });

  it.each(ORDER_FREE)('%s: ejecting backends (candidates shrink, no setMembers) moves only their keys', (_name, make) => {
    fc.assert(fc.property(arbIds(2, 20), fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }), seedArb, (ids, ejectMask, seed) => {
      const members = backends(ids);
      let left = members.filter((_, i) => !ejectMask[i]);
      if (left.length === 0) left = [members[0]];
      const keys = keySet(500, seed);
      const p = make();
      const before = assign(p, members, keys);
      const after = pickAll(p, candidates(left), keys); // same tables, fewer candidates
      const stays = new Set(left.map((b) => b.id));
      before.forEach((id, i) => { if (stays.has(id)) expect(after[i]).toBe(id); });
    }), { numRuns: 60 });
  });
});

describe('bounded-load', () => {
  type Op = { kind: 'pick'; key: string } | { kind: 'end'; which: number };
  // Few distinct keys, so hot keys pile onto one backend and the bound has to bite.
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 3, arbitrary: fc.nat(5).map((i): Op => ({ kind: 'pick', key: `192.168.1.${i}` })) },
    { weight: 2, arbitrary: fc.nat().map((which): Op => ({ kind: 'end', which })) },
  );
  const factorArb = fc.oneof(fc.constantFrom(1, 1.25, 2), fc.double({ min: 1, max: 3, noNaN: true }));

  it('through the Balancer: after every pick, chosen.inFlight ≤ ceil(c × total / n)', () => {
    fc.assert(fc.property(arbIds(1, 10), factorArb, fc.array(opArb, { maxLength: 300 }), (ids, c, ops) => {
      const bal = new Balancer({
        balancer: BalancerSchema.parse({ policy: 'bounded-load', balanceFactor: c, vnodes: 20, panicThresholdPercent: 0 }),
        rng: () => 0,
      });
      for (const id of ids) bal.add(id, { nowMs: 0, initial: true });
      const open: Backend[] = [];
      for (const op of ops) {
        if (op.kind === 'pick') {
          const chosen = bal.pick({ nowMs: 0, hashKey: op.key })!;
          bal.attemptStarted(chosen, 0);
          open.push(chosen);
          const total = ids.reduce((s, id) => s + bal.backend(id)!.inFlight, 0);
          expect(chosen.inFlight).toBeLessThanOrEqual(Math.ceil((c * total) / ids.length));
        } else if (open.length > 0) {
          const [done] = open.splice(op.which % open.length, 1);
          bal.attemptEnded(done, 0, 1, { kind: 'response', status: 200 });
        }
      }
    }), { numRuns: 150 });
  });

  const tables: Array<[string, TableBuilder]> = [
    ['ring', (m) => Ring.build(m, { vnodes: 20 })],
    ['maglev', (m) => MaglevTable.build(m, 251)],
    ['rendezvous', (m) => new RendezvousTable(m)],
  ];
  it.each(tables)('over a %s table, weighted, with busy non-candidates: chosen.inFlight ≤ ceil(c × total × w / W) over the candidates', (_name, table) => {
    const spec = fc.record({ weight: fc.constantFrom(1, 2, 3), candidate: fc.boolean(), busy: fc.nat(5) });
    fc.assert(fc.property(fc.array(spec, { minLength: 1, maxLength: 8 }), factorArb, fc.array(opArb, { maxLength: 200 }), (specs, c, ops) => {
      const members = specs.map((s, i) => backend(`b${i}`, i, s.weight));
      let allowed = members.filter((_, i) => specs[i].candidate);
      if (allowed.length === 0) allowed = [members[0]];
      // Ejected or excluded backends may still carry requests; they do not count.
      members.forEach((b, i) => { if (!allowed.includes(b)) b.inFlight = specs[i].busy; });
      const cs = candidates(allowed);
      const p = new BoundedLoad({ table, balanceFactor: c });
      p.setMembers(members);
      const open: Backend[] = [];
      for (const op of ops) {
        if (op.kind === 'pick') {
          const chosen = p.pick(cs, { nowMs: 0, hashKey: op.key });
          expect(cs.has(chosen)).toBe(true);
          chosen.inFlight++;
          open.push(chosen);
          const total = allowed.reduce((s, b) => s + b.inFlight, 0);
          expect(chosen.inFlight).toBeLessThanOrEqual(Math.ceil((c * total * chosen.effectiveWeight) / cs.totalWeight));
          if (cs.uniformWeights) expect(chosen.inFlight).toBeLessThanOrEqual(Math.ceil((c * total) / allowed.length));
        } else if (open.length > 0) {
          open.splice(op.which % open.length, 1)[0].inFlight--;
        }
      }
    }), { numRuns: 150 });
  });

  it('idle, it is exactly ring-hash (affinity first, the bound only under load)', () => {
    fc.assert(fc.property(arbIds(1, 15), fc.array(arbKey, { minLength: 1, maxLength: 50 }), (ids, keys) => {
      expect(assign(bounded(), backends(ids), keys)).toEqual(assign(ketama(), backends(ids), keys));
    }), { numRuns: 40 });
  });

  it('idle over Maglev or rendezvous, it is exactly that table\'s lookup', () => {
    fc.assert(fc.property(arbIds(1, 15), fc.array(arbKey, { minLength: 1, maxLength: 50 }), (ids, keys) => {
      expect(assign(new BoundedLoad({ table: (m) => MaglevTable.build(m, 251) }), backends(ids), keys))
        .toEqual(assign(new Maglev(251), backends(ids), keys));
      expect(assign(new BoundedLoad({ table: (m) => new RendezvousTable(m) }), backends(ids), keys))
        .toEqual(assign(rendezvous(), backends(ids), keys));
    }), { numRuns: 40 });
  });

  it('rendezvous picks the first candidate of its table\'s walk, weighted or not, whatever the candidates', () => {
    const spec = fc.record({ weight: fc.constantFrom(1, 1, 2, 3.5), candidate: fc.boolean() });
    fc.assert(fc.property(fc.array(spec, { minLength: 1, maxLength: 12 }), fc.array(arbKey, { minLength: 1, maxLength: 30 }), (specs, keys) => {
      const members = specs.map((x, i) => backend(`b${i}`, i, x.weight));
      const allowed = members.filter((_, i) => specs[i].candidate);
      const cs = candidates(allowed.length > 0 ? allowed : members);
      const policy = rendezvous();
      policy.setMembers(members);
      const table = new RendezvousTable(members);
      for (const hashKey of keys) expect(policy.pick(cs, { nowMs: 0, hashKey })).toBe(lookup(table, cs, murmur3(hashKey)));
    }), { numRuns: 100 });
  });

  it('records the full backend it passed over as over-bound', () => {
    const members = backends(['a', 'b', 'c']);
    const p = new BoundedLoad({ table: (m) => Ring.build(m, { vnodes: 40 }), balanceFactor: 1 });
    p.setMembers(members);
    const c = candidates(members);
    const key = { nowMs: 0, hashKey: '203.0.113.9' };
    const home = p.pick(c, key);
    home.inFlight = 1; // demand 2 over 3 backends: bound ceil(2/3) = 1, home is full
    const trace = newTrace();
    const next = p.pick(c, key, trace);
    expect(next).not.toBe(home);
    expect(trace.skipped).toContainEqual({ id: home.id, reason: 'over-bound' });
    expect(trace.considered?.map((s) => s.id)).toEqual([home.id, next.id]);
  });
});

describe('distribution over equal backends (10k keys, n = 10)', () => {
  const n = 10;
  // Binomial sampling alone: σ_rel = √((1 − 1/n)/(10k/n)) = 3 %; 5σ gives max/mean < 1.15.
  const binomial = binomialMaxOverMean(KEYS, 1 / n);

  function sharesOf(make: Factory, seed: number): Map<string, number> {
    const ids = idSet(n, seed);
    return tally(ids, assign(make(), backends(ids), keySet(KEYS, seed)));
  }

  it('ring-hash, 160 vnodes: max/mean < 1.40', () => {
    // A backend's arc is a sum of 160 exponential gaps: σ_rel ≈ 1/√160 = 7.9 %, 8.5 % with
    // key sampling; 1.40 is ~5σ for one backend. Measured over 200 id sets: median 1.13,
    // p99 1.28 (so the brief's 1.15 is ketama's typical value, not a bound).
    fc.assert(fc.property(seedArb, (seed) => {
      expect(maxOverMean(sharesOf(ketama, seed))).toBeLessThan(1.4);
    }), { numRuns: 10 });
  });

  it('ring-hash, CLB 512 × 9: max/mean < 3 (coarse by design)', () => {
    // Nine vnodes per backend: σ_rel ≈ 1/√9 = 33 %, so one backend at 2–2.4× the mean is
    // ordinary. Measured over 200 id sets: median 1.52, p99 2.34, worst 2.43.
    fc.assert(fc.property(seedArb, (seed) => {
      expect(maxOverMean(sharesOf(clb, seed))).toBeLessThan(3);
    }), { numRuns: 10 });
  });

  it('maglev: table entries differ by at most one (max/mean < 1.02); keys within the binomial bound', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 200 }), seedArb, (size, seed) => {
      const p = new Maglev();
      p.setMembers(backends(idSet(size, seed)));
      const entries = [...p.entryCounts().values()];
      expect(Math.max(...entries) - Math.min(...entries)).toBeLessThanOrEqual(1);
      expect(Math.max(...entries) / (p.tableSize / size)).toBeLessThan(1.02);
    }), { numRuns: 15 });
    fc.assert(fc.property(seedArb, (seed) => {
      // Measured over 200 id sets: median 1.05, p99 1.09 (all of it key sampling).
      expect(maxOverMean(sharesOf(maglev, seed))).toBeLessThan(binomial);
    }), { numRuns: 10 });
  });

  it('rendezvous: within the binomial bound', () => {
    fc.assert(fc.property(seedArb, (seed) => {
      // Measured over 200 id sets: median 1.05, p99 1.10.
      expect(maxOverMean(sharesOf(rendezvous, seed))).toBeLessThan(binomial);
    }), { numRuns: 10 });
  });
});

describe('weights: a weight-2 backend among four weight-1 backends gets about twice the keys', () => {
  // Ratio = keys of the heavy one / mean keys of the others, 10k keys. For maglev and
  // rendezvous only key sampling varies it: σ ≈ 1.8 % of 2, so ±10 % is 5.5σ (measured
  // 1.90–2.11 over 200 sets). Ring-hash also varies with arc lengths, σ ≈ 7 % of 2, so
  // ±35 % (measured 1.67–2.38).
  const cases: Array<[string, Factory, number]> = [['ring-hash', ketama, 0.35], ['maglev', maglev, 0.1], ['rendezvous', rendezvous, 0.1]];
  it.each(cases)('%s', (_name, make, tolerance) => {
    fc.assert(fc.property(seedArb, (seed) => {
      const ids = idSet(5, seed);
      const counts = tally(ids, assign(make(), backends(ids, (i) => (i === 0 ? 2 : 1)), keySet(KEYS, seed)));
      const others = ids.slice(1).reduce((s, id) => s + counts.get(id)!, 0) / 4;
      expect(Math.abs(counts.get(ids[0])! / others / 2 - 1)).toBeLessThan(tolerance);
    }), { numRuns: 10 });
  });

  it('maglev table: the weight-2 backend owns twice the entries, within 1 %', () => {
    const ids = idSet(5, 3);
    const p = new Maglev();
    p.setMembers(backends(ids, (i) => (i === 0 ? 2 : 1)));
    const counts = p.entryCounts();
    const others = ids.slice(1).reduce((s, id) => s + counts.get(id)!, 0) / 4;
    expect(Math.abs(counts.get(ids[0])! / others / 2 - 1)).toBeLessThan(0.01);
  });
});

describe('tables', () => {
  it('build off the hot path, fast: maglev 65537 × 1000 backends and a 160-vnode ring of 1000', () => {
    const members = backends(idSet(1000, 4));
    const t0 = performance.now();
    new Maglev(65_537).setMembers(members);
    const maglevMs = performance.now() - t0;
    const t1 = performance.now();
    ketama().setMembers(members);
    const ringMs = performance.now() - t1;
    // Measured ~10 ms and ~50 ms on a laptop-class CPU; "well under a second" with room for slow CI.
    expect(maglevMs).toBeLessThan(500);
    expect(ringMs).toBeLessThan(500);
  });

  it('walks to the key\'s next preference when the preferred backend is excluded, and traces the walk', () => {
    const members = backends(idSet(6, 5));
    for (const make of [ketama, maglev]) {
      const p = make();
      p.setMembers(members);
      const all = candidates(members);
      const key = { nowMs: 0, hashKey: '198.51.100.7' };
      const home = p.pick(all, key)!;
      const trace = newTrace();
      const next = p.pick(candidates(members.filter((b) => b !== home)), key, trace)!;
      expect(next).not.toBe(home);
      expect(trace.considered?.[0].id).toBe(home.id);
      expect(trace.considered?.at(-1)?.id).toBe(next.id);
    }
  });
});

describe('through the Balancer', () => {
  const names = ['ip-hash', 'ring-hash', 'maglev', 'rendezvous', 'bounded-load'] as const;
  it.each(names)('%s: Balancer picks equal the bare policy; draining one backend moves only its keys', (policy) => {
    const ids = idSet(8, 6);
    const keys = keySet(2_000, 6);
    const bal = new Balancer({ balancer: BalancerSchema.parse({ policy, panicThresholdPercent: 0 }), rng: () => 0 });
    for (const id of ids) bal.add(id, { nowMs: 0, initial: true });
    const viaBalancer = keys.map((hashKey) => bal.pick({ nowMs: 0, hashKey })!.id);
    const bare = { 'ip-hash': ipHash, 'ring-hash': ketama, maglev, rendezvous, 'bounded-load': bounded }[policy];
    expect(viaBalancer).toEqual(assign(bare(), backends(ids), keys));

    bal.remove(ids[3], 0); // nothing in flight: removed at once, setMembers runs
    const after = keys.map((hashKey) => bal.pick({ nowMs: 0, hashKey })!.id);
    const others = viaBalancer.filter((id, i) => id !== ids[3] && after[i] !== id).length / keys.length;
    if (policy === 'ip-hash') expect(others).toBeGreaterThan(0.5);
    else expect(others).toBeLessThanOrEqual(policy === 'maglev' ? 0.02 : 0);
  });

  it('the clb-512x9 preset builds the 512-slot ring', () => {
    const ids = idSet(8, 7);
    const keys = keySet(1_000, 7);
    const bal = new Balancer({ balancer: BalancerSchema.parse({ policy: 'ring-hash', ringPreset: 'clb-512x9' }), rng: () => 0 });
    for (const id of ids) bal.add(id, { nowMs: 0, initial: true });
    expect(keys.map((hashKey) => bal.pick({ nowMs: 0, hashKey })!.id)).toEqual(assign(clb(), backends(ids), keys));
  });
});
