// Laws of the NGINX models (the shared policy laws in test/core/policies.test.ts also run over
// them), known cases from NGINX's documentation and source, passive health as
// ngx_http_upstream_free_round_robin_peer counts it, and the next-upstream rules. The
// request-by-request proof against the real nginx is nginx-models-binary.test.ts.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Balancer } from '../../core/balancer.ts';
import { type NginxRetryRules, decideNginxNext } from '../../core/nginx-retry.ts';
import { ipHashBytes, ipHashStep } from '../../core/policies/nginx-ip-hash.ts';
import { chashPoints, crc32 } from '../../core/policies/nginx-hash.ts';
import { OK, counts, modelBalancer, one, sequential } from './model-kit.ts';
import type { AttemptOutcome } from '../../core/types.ts';

const REFUSED: AttemptOutcome = { kind: 'connect-error' };

const weightsArb = fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 2, maxLength: 6 });

describe('nginx-round-robin (ngx_http_upstream_get_peer)', () => {
  it('law: every window of Σweight sequential picks gives each server exactly its weight', () => {
    fc.assert(fc.property(weightsArb, fc.integer({ min: 1, max: 3 }), (weights, windows) => {
      const total = weights.reduce((a, b) => a + b, 0);
      const picks = sequential(modelBalancer({ policy: 'nginx-round-robin' }, weights), total * windows);
      for (let w = 0; w < windows; w++) {
        const c = counts(picks.slice(w * total, (w + 1) * total));
        weights.forEach((weight, i) => expect(c[`s${i + 1}`]).toBe(weight));
      }
    }), { numRuns: 60, seed: 17 });
  });

  it('the documentation\'s smooth order: weights 5 1 1 give a a b a c a a', () => {
    expect(sequential(modelBalancer({ policy: 'nginx-round-robin' }, [5, 1, 1]), 7).join(' ')).toBe('s1 s1 s2 s1 s3 s1 s1');
  });

  it('law: a request never tries a server twice; with every server tried there is none left', () => {
    fc.assert(fc.property(weightsArb, (weights) => {
      const b = modelBalancer({ policy: 'nginx-round-robin', maxFails: 0 }, weights);
      const tried = new Set<string>();
      for (let k = 0; k < weights.length; k++) {
        const pick = b.pick({ nowMs: 0, exclude: tried, attempt: k })!;
        expect(tried.has(pick.id)).toBe(false);
        tried.add(pick.id);
      }
      expect(b.pick({ nowMs: 0, exclude: tried })).toBeUndefined();
    }), { numRuns: 40, seed: 3 });
  });

  it('a reload (any change) starts fresh: the order after a weight change is a new server list\'s order', () => {
    const b = modelBalancer({ policy: 'nginx-round-robin' }, [3, 1, 1]);
    sequential(b, 4);
    b.setWeight('s2', 2);
    expect(sequential(b, 6).join(' ')).toBe(sequential(modelBalancer({ policy: 'nginx-round-robin' }, [3, 2, 1]), 6).join(' '));
  });
});

describe('nginx passive health (max_fails, fail_timeout; free_round_robin_peer)', () => {
  it('max_fails=2 fail_timeout=10s: out after two failures within the window, one probe after it, back when it passes', () => {
    const b = modelBalancer({ policy: 'nginx-round-robin', maxFails: 2, failTimeoutMs: 10_000 }, [1, 1]);
    expect(one(b, 0, REFUSED)).toBe('s1');
    expect(one(b, 100)).toBe('s2');
    expect(one(b, 200, REFUSED)).toBe('s1'); // second failure within the window: s1 is out
    for (let t = 300; t < 11_000; t += 500) expect(one(b, t)).toBe('s2');
    // From 11 s on, now − checked (0) > 10: s1 takes part again, and the first request it gets is the check.
    const open: Array<NonNullable<ReturnType<Balancer['pick']>>> = [];
    let probe: NonNullable<ReturnType<Balancer['pick']>> | undefined;
    for (let k = 0; !probe && k < 4; k++) {
      const pick = b.pick({ nowMs: 11_000 })!;
      b.attemptStarted(pick, 11_000);
      if (pick.id === 's1') probe = pick; else open.push(pick);
    }
    expect(probe).toBeDefined();
    // While the check is in flight s1 is out again: it was checked now (checked = 11 s).
    for (let t = 11_001; t < 11_010; t++) expect(one(b, t)).toBe('s2');
    b.attemptEnded(probe!, 11_010, 10, OK); // passed: accessed < checked, so fails = 0
    expect(counts(sequential(b, 6).map((_, i) => one(b, 11_020 + i)!)).s1).toBe(3);
  });

  it('fails are not reset by a success until fail_timeout has passed since the last failure (accessed < checked)', () => {
    const b = modelBalancer({ policy: 'nginx-round-robin', maxFails: 2, failTimeoutMs: 10_000 }, [1, 1]);
    expect(one(b, 0, REFUSED)).toBe('s1');
    expect(one(b, 1_000)).toBe('s2');
    expect(one(b, 2_000)).toBe('s1'); // a success at 2 s: accessed == checked == 0, fails stay 1
    expect(one(b, 3_000)).toBe('s2');
    expect(one(b, 4_000, REFUSED)).toBe('s1'); // fails 2: out
    expect(sequential(b, 4).every((id) => id === 's2')).toBe(true);
  });

  it('a failure drops the effective weight by weight / max_fails; it climbs back one per pass', () => {
    const after = (outcome: AttemptOutcome) => {
      const b = modelBalancer({ policy: 'nginx-round-robin', maxFails: 2, failTimeoutMs: 10_000 }, [8, 1]);
      expect(one(b, 0, outcome)).toBe('s1'); // a failure: effective weight 8 − 8/2 = 4 (fails 1 < 2: still usable)
      return sequential(b, 9).join(' ');
    };
    expect(after(OK)).toBe('s1 s1 s1 s2 s1 s1 s1 s1 s1');
    expect(after(REFUSED)).toBe('s1 s1 s2 s1 s1 s1 s1 s1 s1'); // s2 comes sooner while s1's weight climbs back 5, 6, 7, 8 (worked by hand)
  });

  it('an upstream of one server ignores max_fails: it is always used', () => {
    const b = modelBalancer({ policy: 'nginx-round-robin', maxFails: 1 }, [1]);
    for (let t = 0; t < 5; t++) expect(one(b, t, REFUSED)).toBe('s1');
  });

  it('max_fails=0 turns passive health off', () => {
    const b = modelBalancer({ policy: 'nginx-round-robin', maxFails: 0 }, [1, 1]);
    const picks = Array.from({ length: 10 }, (_, t) => one(b, t, REFUSED));
    expect(counts(picks as string[])).toEqual({ s1: 5, s2: 5 });
  });
});

describe('nginx-least-conn', () => {
  it('law: sequential requests (every server at 0 conns) go in smooth round-robin order', () => {
    fc.assert(fc.property(weightsArb, (weights) => {
      const n = 3 * weights.reduce((a, b) => a + b, 0);
      expect(sequential(modelBalancer({ policy: 'nginx-least-conn' }, weights), n)).toEqual(sequential(modelBalancer({ policy: 'nginx-round-robin' }, weights), n));
    }), { numRuns: 40, seed: 5 });
  });

  it('law: the pick has the lowest conns per weight of the usable servers', () => {
    fc.assert(fc.property(weightsArb, fc.array(fc.boolean(), { minLength: 30, maxLength: 60 }), (weights, ends) => {
      const b = modelBalancer({ policy: 'nginx-least-conn' }, weights);
      const open: ReturnType<Balancer['pick']>[] = [];
      ends.forEach((end, t) => {
        if (end && open.length) b.attemptEnded(open.shift()!, t, 1, OK);
        const ratios = b.ids().map((id) => b.backend(id)!.inFlight / b.backend(id)!.weight);
        const pick = b.pick({ nowMs: t })!;
        expect(pick.inFlight / pick.weight).toBeCloseTo(Math.min(...ratios), 9);
        b.attemptStarted(pick, t);
        open.push(pick);
      });
    }), { numRuns: 40, seed: 6 });
  });
});

describe('nginx-ip-hash (ngx_http_upstream_get_ip_hash_peer)', () => {
  it('hashes only the first three octets of an IPv4 address: 89, then (h × 113 + byte) mod 6271', () => {
    expect(ipHashBytes('127.0.0.201')).toEqual([127, 0, 0]);
    expect(ipHashStep(89, [127, 0, 0])).toBe(4040);
    expect(ipHashBytes('::1')).toHaveLength(16);
  });

  it('every 127.0.0.x client lands on one server (4040 mod 3 = 2: s3 of three equal servers)', () => {
    const b = modelBalancer({ policy: 'nginx-ip-hash' }, [1, 1, 1]);
    expect(new Set(sequential(b, 200, (i) => `127.0.0.${i + 2}`))).toEqual(new Set(['s3']));
  });

  it('law: clients of one /24 share a server, whatever the weights', () => {
    fc.assert(fc.property(weightsArb, fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), (weights, a, c) => {
      const b = modelBalancer({ policy: 'nginx-ip-hash' }, weights);
      const picks = sequential(b, 20, (i) => `10.${a}.${c}.${i * 11}`);
      expect(new Set(picks).size).toBe(1);
    }), { numRuns: 60, seed: 7 });
  });
});

describe('nginx-hash', () => {
  it('crc32 is the IEEE CRC-32 NGINX uses (ngx_crc32_long)', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
    expect(crc32('')).toBe(0);
  });

  it('consistent: 160 points per unit of weight, from the server name as written (unix: drops the prefix)', () => {
    expect(chashPoints('unix:s1.sock', 2)).toHaveLength(320);
    expect(chashPoints('unix:s1.sock', 1)).not.toEqual(chashPoints('unix:s2.sock', 1));
    expect(chashPoints('127.0.0.1:8080', 1)).not.toEqual(chashPoints('127.0.0.1:8081', 1));
  });

  it('law (consistent): adding a server moves clients only to it', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 2, maxLength: 5 }), (weights) => {
      const key = (i: number) => `10.1.${i % 256}.${Math.floor(i / 256)}`;
      const b = modelBalancer({ policy: 'nginx-hash', consistent: true }, weights);
      const before = sequential(b, 300, key);
      b.add('s9', { weight: 1, nowMs: 300 });
      const after = sequential(b, 300, key);
      after.forEach((id, i) => { if (id !== before[i]) expect(id).toBe('s9'); });
    }), { numRuns: 30, seed: 8 });
  });

  it('plain: the same key, the same server; another server only when it cannot be used', () => {
    const b = modelBalancer({ policy: 'nginx-hash' }, [1, 1, 1]);
    const first = one(b, 0, OK, '10.0.0.1')!;
    expect(sequential(b, 5, () => '10.0.0.1').every((id) => id === first)).toBe(true);
    const other = b.pick({ nowMs: 10, hashKey: '10.0.0.1', exclude: new Set([first]) })!;
    expect(other.id).not.toBe(first);
  });
});

describe('nginx-random', () => {
  it('random two: of two servers, the one with fewer conns per weight (both are always drawn)', () => {
    const b = modelBalancer({ policy: 'nginx-random', two: true }, [1, 1]);
    const busy = b.backend('s1')!;
    b.attemptStarted(busy, 0);
    for (let t = 0; t < 50; t++) expect(one(b, t)).toBe('s2');
  });

  it('random: shares follow the weights (seeded; 6000 picks, ±3 %)', () => {
    const c = counts(sequential(modelBalancer({ policy: 'nginx-random' }, [1, 2, 3], 11), 6000));
    expect(c.s1 / 6000).toBeCloseTo(1 / 6, 1);
    expect(Math.abs(c.s3 / 6000 - 0.5)).toBeLessThan(0.03);
  });
});

describe('proxy_next_upstream (core/nginx-retry.ts)', () => {
  const rules = (over: Partial<NginxRetryRules> = {}): NginxRetryRules => ({ nextUpstream: ['error', 'timeout'], tries: 0, timeoutMs: 0, ...over });
  const end = (outcome: AttemptOutcome, over: Partial<Parameters<typeof decideNginxNext>[1]> = {}) => ({ outcome, method: 'GET', triesUsed: 1, servers: 3, elapsedMs: 0, ...over });

  it('an error or a timeout is retried while tries are left, and always fails the server', () => {
    expect(decideNginxNext(rules(), end(REFUSED))).toEqual({ kind: 'next', serverFailed: true });
    expect(decideNginxNext(rules(), end({ kind: 'timeout' }))).toEqual({ kind: 'next', serverFailed: true });
    expect(decideNginxNext(rules(), end(REFUSED, { triesUsed: 3 }))).toEqual({ kind: 'fail', status: 502, error: 'connect_failed', serverFailed: true });
    expect(decideNginxNext(rules(), end({ kind: 'timeout' }, { triesUsed: 3 }))).toEqual({ kind: 'fail', status: 504, error: 'upstream_timeout', serverFailed: true });
    expect(decideNginxNext(rules({ nextUpstream: [] }), end(REFUSED))).toMatchObject({ kind: 'fail', status: 502, serverFailed: true });
  });

  it('tries: as many as servers, capped by proxy_next_upstream_tries; one server never retries', () => {
    expect(decideNginxNext(rules({ tries: 2 }), end(REFUSED, { triesUsed: 2 }))).toMatchObject({ kind: 'fail' });
    expect(decideNginxNext(rules(), end(REFUSED, { servers: 1 }))).toMatchObject({ kind: 'fail' });
  });

  it('proxy_next_upstream_timeout: no new try once it has run out since the request started', () => {
    expect(decideNginxNext(rules({ timeoutMs: 100 }), end(REFUSED, { elapsedMs: 100 }))).toMatchObject({ kind: 'fail' });
    expect(decideNginxNext(rules({ timeoutMs: 100 }), end(REFUSED, { elapsedMs: 99 }))).toMatchObject({ kind: 'next' });
  });

  it('POST, LOCK, PATCH: retried after a refused connection (not sent), not after a reset unless non_idempotent', () => {
    expect(decideNginxNext(rules(), end(REFUSED, { method: 'POST' }))).toMatchObject({ kind: 'next' });
    expect(decideNginxNext(rules(), end({ kind: 'reset' }, { method: 'PATCH' }))).toMatchObject({ kind: 'fail', status: 502, error: 'upstream_reset' });
    expect(decideNginxNext(rules({ nextUpstream: ['error', 'non_idempotent'] }), end({ kind: 'reset' }, { method: 'POST' }))).toMatchObject({ kind: 'next' });
    expect(decideNginxNext(rules(), end({ kind: 'reset' }, { method: 'PUT' }))).toMatchObject({ kind: 'next' });
  });

  it('statuses: retried only when named and a try is left; otherwise passed on and the server is not failed; 403/404 never fail it', () => {
    const r = rules({ nextUpstream: ['error', 'http_502', 'http_404'] });
    expect(decideNginxNext(r, end({ kind: 'response', status: 502 }))).toEqual({ kind: 'next', serverFailed: true });
    expect(decideNginxNext(r, end({ kind: 'response', status: 502 }, { triesUsed: 3 }))).toEqual({ kind: 'respond', status: 502, serverFailed: false });
    expect(decideNginxNext(r, end({ kind: 'response', status: 503 }))).toEqual({ kind: 'respond', status: 503, serverFailed: false });
    expect(decideNginxNext(r, end({ kind: 'response', status: 404 }))).toEqual({ kind: 'next', serverFailed: false });
  });
});
