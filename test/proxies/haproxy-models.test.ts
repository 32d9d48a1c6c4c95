// Laws of the HAProxy models (the shared policy laws in test/core/policies.test.ts also run
// over them), and known cases from HAProxy's documentation and the measured binary. The
// request-by-request proof against the real haproxy is haproxy-models-binary.test.ts.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fullHash, sourceHash } from '../../core/policies/haproxy-hash.ts';
import { counts, modelBalancer, sequential } from './model-kit.ts';

const weightsArb = fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 6 });

describe('haproxy-roundrobin (lb_fwrr.c)', () => {
  // Not exact: the remainder carried in rweight can shift one pick across a window's edge
  // (weights 7 4 8 give 63/64 in the first window) — the real binary does the same.
  it('law: every window of 16 × Σweight picks gives each server 16 × its weight, ± 1', () => {
    fc.assert(fc.property(weightsArb, fc.integer({ min: 1, max: 3 }), (weights, windows) => {
      const total = weights.reduce((a, b) => a + b, 0);
      const picks = sequential(modelBalancer({ policy: 'haproxy-roundrobin' }, weights), 16 * total * windows);
      const c = counts(picks);
      weights.forEach((w, i) => expect(Math.abs(c[`s${i + 1}`] - 16 * w * windows)).toBeLessThanOrEqual(1));
    }), { numRuns: 40, seed: 16 });
  });

  it('measured on haproxy 2.6.12 (haproxy-facts §6): weights 1 2 3 → s3 s2 s3 s1 s3 s2, repeating; equal weights start at s1', () => {
    expect(sequential(modelBalancer({ policy: 'haproxy-roundrobin' }, [1, 2, 3]), 12).join(' ')).toBe('s3 s2 s3 s1 s3 s2 s3 s2 s3 s1 s3 s2');
    expect(sequential(modelBalancer({ policy: 'haproxy-roundrobin' }, [1, 1, 1]), 6).join(' ')).toBe('s1 s2 s3 s1 s2 s3');
  });

  it('a server going down leaves the rotation and comes back into it (fwrr_set_server_status_up)', () => {
    const b = modelBalancer({ policy: 'haproxy-roundrobin' }, [1, 1, 1]);
    sequential(b, 4);
    b.setAdminDown('s2', true, 4);
    expect(sequential(b, 6)).not.toContain('s2');
    b.setAdminDown('s2', false, 10);
    expect(counts(sequential(b, 30)).s2).toBe(10);
  });
});

describe('haproxy-static-rr (lb_map.c)', () => {
  it('law: every Σ(weight / gcd) picks give each server weight / gcd picks', () => {
    fc.assert(fc.property(weightsArb, fc.integer({ min: 1, max: 4 }), (weights, scale) => {
      const scaled = weights.map((w) => w * scale); // the GCD divides the scale back out
      const total = weights.reduce((a, b) => a + b, 0);
      const c = counts(sequential(modelBalancer({ policy: 'haproxy-static-rr' }, scaled), total * 2));
      weights.forEach((w, i) => expect(c[`s${i + 1}`]).toBe(2 * w));
    }), { numRuns: 40, seed: 17 });
  });

  it('the map puts the first declared server first on ties (recalc_server_map)', () => {
    expect(sequential(modelBalancer({ policy: 'haproxy-static-rr' }, [3, 2, 1]), 6).join(' ')).toBe('s1 s1 s2 s1 s2 s3');
  });
});

describe('haproxy-leastconn (lb_fwlc.c)', () => {
  it('law: idle servers take sequential requests in turn (counts differ by at most one), whatever the weights', () => {
    fc.assert(fc.property(weightsArb, fc.integer({ min: 1, max: 50 }), (weights, n) => {
      const c = Object.values(counts(sequential(modelBalancer({ policy: 'haproxy-leastconn' }, weights), n)));
      if (c.length === weights.length || n < weights.length) expect(Math.max(...c) - Math.min(...c)).toBeLessThanOrEqual(1);
    }), { numRuns: 40, seed: 18 });
  });

  it('a busy server is passed over in proportion to its weight: (inflight + 1) / eweight', () => {
    const b = modelBalancer({ policy: 'haproxy-leastconn' }, [1, 3]);
    const s2 = b.backend('s2')!;
    b.attemptStarted(s2, 0); // s2: (1+1)·4096/48 = 170 < s1 idle key 0? no: idle is 0, so s1 first
    expect(b.pick({ nowMs: 0 })!.id).toBe('s1');
    const s1 = b.backend('s1')!;
    b.attemptStarted(s1, 0); // s1: (1+1)·4096/16 = 512 > s2's 170
    expect(b.pick({ nowMs: 0 })!.id).toBe('s2');
  });
});

describe('haproxy-first (lb_fas.c)', () => {
  it('without maxconn the first server takes everything; with maxconn the farm fills in id order', () => {
    expect(new Set(sequential(modelBalancer({ policy: 'haproxy-first' }, [1, 5, 1]), 20))).toEqual(new Set(['s1']));
    const b = modelBalancer({ policy: 'haproxy-first', maxconn: 2 }, [1, 1, 1]);
    const held: string[] = [];
    for (let i = 0; i < 5; i++) {
      const be = b.pick({ nowMs: i })!;
      b.attemptStarted(be, i); // held open
      held.push(be.id);
    }
    expect(held).toEqual(['s1', 's1', 's2', 's2', 's3']);
  });
});

describe('haproxy-source (backend.c get_server_sh)', () => {
  const key = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

  it('the address is the hash; avalanche is full_hash (intops.h), a prime multiply included', () => {
    expect(sourceHash('127.0.0.2', false)).toBe(0x7f000002);
    expect(fullHash(0)).toBe(Math.imul(1800329511, 3221225473) >>> 0);
    expect(sourceHash('127.0.0.2', true)).toBe(fullHash(0x7f000002));
    expect(sourceHash('::ffff:127.0.0.2', false)).toBe(0x7f000002);
    expect(sourceHash('not-an-ip', false)).toBeUndefined();
  });

  it('law: map-based sends address h to slot h mod Σweight — with weights 1 1 1, 127.0.0.x goes to s(1 + (0x7f000000 + x) mod 3)', () => {
    const picks = sequential(modelBalancer({ policy: 'haproxy-source' }, [1, 1, 1]), 30, (i) => `127.0.0.${i + 2}`);
    picks.forEach((id, i) => expect(id).toBe(`s${1 + ((0x7f000000 + i + 2) % 3)}`));
  });

  it('law: consistent hashing moves only the keys of a server that goes down', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 2, maxLength: 6 }), fc.nat(100), (weights, down) => {
      const b = modelBalancer({ policy: 'haproxy-source', hashMethod: 'consistent', avalanche: true }, weights);
      const before = sequential(b, 300, key);
      const victim = `s${1 + (down % weights.length)}`;
      b.setAdminDown(victim, true, 1_000);
      const after = sequential(b, 300, key);
      before.forEach((id, i) => { if (id !== victim) expect(after[i]).toBe(id); else expect(after[i]).not.toBe(victim); });
    }), { numRuns: 30, seed: 19 });
  });

  it('law: the same address always lands on the same server while membership holds', () => {
    for (const hashMethod of ['map-based', 'consistent']) {
      const b = modelBalancer({ policy: 'haproxy-source', hashMethod }, [2, 1, 3]);
      const once = sequential(b, 200, key);
      expect(sequential(b, 200, key)).toEqual(once);
    }
  });

  it('hash-balance-factor keeps every server within its bounded share (chash_server_is_eligible)', () => {
    const b = modelBalancer({ policy: 'haproxy-source', hashMethod: 'consistent', avalanche: true, hashBalanceFactor: 125 }, [1, 1, 1, 1]);
    for (let i = 0; i < 200; i++) b.attemptStarted(b.pick({ nowMs: 0, hashKey: '10.0.0.1' })!, 0); // one hot client, all held
    const loads = b.status(0).map((s) => s.inFlight);
    // slots per server = ceil-ish 1.25 × (served + 1) / 4: never above 1.25 × 200 / 4 + 1
    for (const l of loads) expect(l).toBeLessThanOrEqual(Math.ceil(1.25 * 200 / 4) + 1);
  });
});

describe('haproxy-random (get_server_rnd over lb_chash.c)', () => {
  it('weights are respected in distribution (random(1), 60 000 picks, ±1.5 points, seed 7)', () => {
    const c = counts(sequential(modelBalancer({ policy: 'haproxy-random', draws: 1 }, [1, 2, 3], 7), 60_000));
    expect(c.s1 / 60_000).toBeCloseTo(1 / 6, 1);
    expect(Math.abs(c.s3 / 60_000 - 0.5)).toBeLessThan(0.06); // the tree's points are uneven (HAProxy's own caveat)
  });

  it('random(2) keeps the less loaded of its two draws', () => {
    const b = modelBalancer({ policy: 'haproxy-random', draws: 2 }, [1, 1], 3);
    for (let i = 0; i < 5; i++) b.attemptStarted(b.backend('s1')!, 0);
    const c = counts(Array.from({ length: 400 }, () => b.pick({ nowMs: 0 })!.id));
    expect(c.s2).toBeGreaterThan(c.s1 ?? 0);
  });

  it('law: the same seed gives the same picks', () => {
    const run = () => sequential(modelBalancer({ policy: 'haproxy-random', draws: 2 }, [1, 2, 1], 5), 300).join();
    expect(run()).toBe(run());
  });
});

describe('avoiding a redispatch\'s previous server (srvtoavoid)', () => {
  it.each([
    { policy: 'haproxy-roundrobin' }, { policy: 'haproxy-static-rr' }, { policy: 'haproxy-leastconn' },
    { policy: 'haproxy-first' }, { policy: 'haproxy-random' }, { policy: 'haproxy-source', hashMethod: 'consistent' },
  ])('law: $policy avoids the excluded server when another is up, and takes it when it is the only one', (cfg) => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 6 }), fc.nat(1_000), (n, k) => {
      const b = modelBalancer(cfg, Array(n).fill(1));
      const avoid = `s${1 + (k % n)}`;
      const pick = b.pick({ nowMs: 0, hashKey: `10.0.${k >> 8}.${k & 255}`, exclude: new Set([avoid]) })!;
      expect(pick.id).not.toBe(avoid);
    }), { numRuns: 30, seed: 20 });
    const single = modelBalancer(cfg, [1]);
    expect(single.pick({ nowMs: 0, hashKey: '10.0.0.1', exclude: new Set(['s1']) })!.id).toBe('s1');
  });

  it('map-based source does not avoid: HAProxy hashes straight into the map (map_get_server_hash)', () => {
    const b = modelBalancer({ policy: 'haproxy-source' }, [1, 1, 1]);
    const first = b.pick({ nowMs: 0, hashKey: '127.0.0.2' })!.id;
    expect(b.pick({ nowMs: 0, hashKey: '127.0.0.2', exclude: new Set([first]) })!.id).toBe(first);
  });
});
