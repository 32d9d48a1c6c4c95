// Laws and known cases of the Caddy 2.6.2 models (the shared policy laws in
// test/core/policies.test.ts also run over them): selection policies from selectionpolicies.go,
// passive health from healthchecks.go, the retry loop from reverseproxy.go. Known hash cases
// were computed by an independent FNV-1a (a few lines of Python), not by the model.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Balancer } from '../../core/balancer.ts';
import type { HealthConfig } from '../../core/config.ts';
import { Router } from '../../core/router.ts';
import { type CaddyRetryRules, CaddyRules } from '../../core/caddy-retry.ts';
import { fnv32a } from '../../core/policies/caddy-ip-hash.ts';
import { counts, modelBalancer, sequential } from './model-kit.ts';
import { clientAddress } from '../../experiments/workload.ts';

/** Caddy 2.6 has no upstream weights: n upstreams s1 … sn. */
const lb = (cfg: Record<string, unknown>, n: number, health?: HealthConfig, seed = 1): Balancer => modelBalancer(cfg, Array<number>(n).fill(1), seed, health);

describe('caddy-round-robin (RoundRobinSelection: counter incremented before use)', () => {
  it('from a fresh config the first request goes to the SECOND upstream: s2 s3 s1 s2 …', () => {
    expect(sequential(lb({ policy: 'caddy-round-robin' }, 3), 6).join(' ')).toBe('s2 s3 s1 s2 s3 s1');
  });

  it('law: n × k sequential picks give every upstream exactly k', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 5 }), (n, k) => {
      const c = counts(sequential(lb({ policy: 'caddy-round-robin' }, n), n * k));
      for (let i = 1; i <= n; i++) expect(c[`s${i}`]).toBe(k);
    }), { numRuns: 40, seed: 17 });
  });

  it('an unavailable upstream costs a turn and the next in the list takes it (s2 down: s3 s1 s3 s1)', () => {
    const b = lb({ policy: 'caddy-round-robin' }, 3);
    b.setAdminDown('s2', true, 0);
    expect(sequential(b, 4).join(' ')).toBe('s3 s1 s3 s1');
  });

  it('a membership change is a config load: the counter starts again (the next pick is the 2nd upstream)', () => {
    const b = lb({ policy: 'caddy-round-robin' }, 3);
    expect(sequential(b, 2).join(' ')).toBe('s2 s3');
    b.add('s4', { nowMs: 2 });
    expect(sequential(b, 5).join(' ')).toBe('s2 s3 s4 s1 s2');
  });
});

describe('caddy-first (FirstSelection)', () => {
  it('the first available upstream takes everything; the next one only while it is down', () => {
    const b = lb({ policy: 'caddy-first' }, 3);
    expect(new Set(sequential(b, 10))).toEqual(new Set(['s1']));
    b.setAdminDown('s1', true, 10);
    expect(new Set(sequential(b, 10))).toEqual(new Set(['s2']));
  });
});

describe('caddy-least-conn (LeastConnSelection)', () => {
  it('law: the pick has the fewest requests in flight', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 1000 }), (loads, seed) => {
      const b = lb({ policy: 'caddy-least-conn' }, loads.length, undefined, seed);
      loads.forEach((l, i) => { for (let k = 0; k < l; k++) b.attemptStarted(b.backend(`s${i + 1}`)!, 0); });
      const pick = b.pick({ nowMs: 0 })!;
      expect(pick.inFlight).toBe(Math.min(...loads));
    }), { numRuns: 60, seed: 18 });
  });

  it('ties are broken at random, not by position (reservoir sampling): 3 idle upstreams share 3000 sequential picks, each within 1000 ± 120', () => {
    const c = counts(sequential(lb({ policy: 'caddy-least-conn' }, 3), 3000));
    for (const id of ['s1', 's2', 's3']) expect(Math.abs(c[id] - 1000)).toBeLessThan(120);
  });
});

describe('caddy-random and caddy-random-choose', () => {
  it('random: 4 upstreams share 4000 picks, each within 1000 ± 130; never an unavailable one', () => {
    const b = lb({ policy: 'caddy-random' }, 5);
    b.setAdminDown('s5', true, 0);
    const c = counts(sequential(b, 4000));
    expect(c.s5).toBeUndefined();
    for (const id of ['s1', 's2', 's3', 's4']) expect(Math.abs(c[id] - 1000)).toBeLessThan(130);
  });

  it('random_choose: an idle upstream among the slots wins at once; the pick is never busier than the other slot', () => {
    const b = lb({ policy: 'caddy-random-choose', choose: 2 }, 3);
    b.attemptStarted(b.backend('s1')!, 0);
    b.attemptStarted(b.backend('s1')!, 0);
    const picks = Array.from({ length: 300 }, () => b.pick({ nowMs: 0 })!.id);
    expect(picks).not.toContain('s1'); // any 2 slots of 3 hold s2 or s3, both idle
  });

  it('random_choose 2 with s1 and s2 down finds nothing for ~1/3 of requests although s3 is up (Intn(i+1) counts unavailable upstreams)', () => {
    const b = lb({ policy: 'caddy-random-choose', choose: 2 }, 3);
    b.setAdminDown('s1', true, 0);
    b.setAdminDown('s2', true, 0);
    const c = counts(Array.from({ length: 3000 }, () => b.pick({ nowMs: 0 })?.id));
    expect(Object.keys(c).sort()).toEqual(['none', 's3']);
    expect(Math.abs(c.none - 1000)).toBeLessThan(120);
  });
});

describe('caddy-ip-hash (hostByHashing: rendezvous over fnv32a(client IP + dial text))', () => {
  it('FNV-1a 32 as Go hash/fnv New32a', () => {
    expect(fnv32a('')).toBe(0x811c9dc5);
    expect(fnv32a('a')).toBe(0xe40c292c);
    expect(fnv32a('127.0.0.2{http.vars.s1}')).toBe(0x6ad6f9a5);
  });

  it('known case: the load generator\'s 200 clients 127.0.0.2 … on the dial texts {http.vars.sN}: 3 servers 51/51/98, 4 servers 51/51/49/49', () => {
    const key = (i: number) => clientAddress(i);
    const three = sequential(lb({ policy: 'caddy-ip-hash' }, 3), 200, key);
    expect(counts(three)).toEqual({ s1: 51, s2: 51, s3: 98 });
    expect(three.slice(0, 24).map((id) => id.slice(1)).join('')).toBe('123312333321332133331233');
    expect(counts(sequential(lb({ policy: 'caddy-ip-hash' }, 4), 200, key))).toEqual({ s1: 51, s2: 51, s3: 49, s4: 49 });
  });

  it('law (rendezvous): an upstream joining takes clients only to itself; one going down moves only its own clients', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 6 }), (n, downAt) => {
      const keys = Array.from({ length: 100 }, (_, i) => clientAddress(i * 7));
      const before = keys.map((k) => lb({ policy: 'caddy-ip-hash' }, n).pick({ nowMs: 0, hashKey: k })!.id);
      const grown = lb({ policy: 'caddy-ip-hash' }, n + 1);
      keys.forEach((k, i) => { const id = grown.pick({ nowMs: 0, hashKey: k })!.id; expect(id === before[i] || id === `s${n + 1}`).toBe(true); });
      const down = `s${Math.min(downAt, n)}`;
      const shrunk = lb({ policy: 'caddy-ip-hash' }, n);
      shrunk.setAdminDown(down, true, 0);
      keys.forEach((k, i) => { if (before[i] !== down) expect(shrunk.pick({ nowMs: 0, hashKey: k })!.id).toBe(before[i]); });
    }), { numRuns: 30, seed: 19 });
  });

  it('hashes the configured dial text: another template maps clients differently', () => {
    const key = (i: number) => clientAddress(i);
    const other = sequential(lb({ policy: 'caddy-ip-hash', dialTemplate: '127.0.0.1:80<id>' }, 3), 200, key);
    expect(counts(other)).not.toEqual({ s1: 51, s2: 51, s3: 98 });
  });
});

describe('Caddy passive health (countFailure, Healthy: fails < max_fails)', () => {
  const passive = (maxFails: number): HealthConfig => ({ caddyPassive: { failDurationMs: 1_000, maxFails, unhealthyStatus: [5] }, reloadResetsHealth: true });

  function fail(b: Balancer, id: string, atMs: number, outcome: Parameters<Balancer['attemptEnded']>[3] = { kind: 'connect-error' }): void {
    b.attemptStarted(b.backend(id)!, atMs);
    b.attemptEnded(b.backend(id)!, atMs, 0, outcome);
  }

  it('max_fails 2: the second failure within fail_duration takes the upstream out until the first expires', () => {
    const b = lb({ policy: 'caddy-round-robin' }, 3, passive(2));
    fail(b, 's2', 100);
    expect(b.isRoutable('s2')).toBe(true);
    fail(b, 's2', 400, { kind: 'response', status: 503 }); // unhealthy_status 5 = any 5xx
    expect(b.isRoutable('s2')).toBe(false);
    expect(b.nextDeadlineMs()).toBe(1_100);
    b.advance(1_099);
    expect(b.isRoutable('s2')).toBe(false);
    b.advance(1_100);
    expect(b.isRoutable('s2')).toBe(true);
  });

  it('a 2xx/4xx never counts; fails are forgotten at a config load (a membership change)', () => {
    const b = lb({ policy: 'caddy-round-robin' }, 3, passive(1));
    fail(b, 's1', 0, { kind: 'response', status: 404 });
    expect(b.isRoutable('s1')).toBe(true);
    fail(b, 's1', 10, { kind: 'reset' });
    expect(b.isRoutable('s1')).toBe(false);
    b.add('s4', { nowMs: 20 });
    expect(b.isRoutable('s1')).toBe(true);
  });
});

describe('the Router in Caddy mode (tryAgain, statusError)', () => {
  function router(rules: CaddyRetryRules, n = 3): Router {
    return new Router({ balancer: lb({ policy: 'caddy-round-robin' }, n), timeouts: { requestMs: 1e9, connectMs: 3_000 }, rules: new CaddyRules(rules) });
  }
  const NONE: CaddyRetryRules = { retries: 0, tryDurationMs: 0, tryIntervalMs: 0 };

  it('Caddy\'s default: no retries, a refused dial answers 502; a 503 from the upstream is passed on', () => {
    const r = router(NONE);
    const f = r.start({ method: 'GET', nowMs: 0, bodyReplayable: true });
    expect(r.next(f, 0)).toMatchObject({ kind: 'attempt' });
    expect(r.attemptEnded(f, 1, { kind: 'connect-error' })).toEqual({ kind: 'fail', status: 502, error: 'connect_failed' });
    const g = r.start({ method: 'GET', nowMs: 0, bodyReplayable: true });
    r.next(g, 0);
    expect(r.attemptEnded(g, 1, { kind: 'response', status: 503 })).toEqual({ kind: 'respond', status: 503 });
  });

  it('lb_try_duration 1000 / interval 250: tries at 0, 250, 500, 750, 1000 on a dead pool, each a new pick, then 502', () => {
    const r = router({ retries: 0, tryDurationMs: 1_000, tryIntervalMs: 250 }, 2);
    const f = r.start({ method: 'POST', nowMs: 0, bodyReplayable: true });
    const tries: number[] = [];
    let now = 0;
    for (;;) {
      const step = r.next(f, now);
      expect(step.kind).toBe('attempt');
      tries.push(now);
      const after = r.attemptEnded(f, now, { kind: 'connect-error' }); // a dial error is retried whatever the method
      if (after.kind !== 'retry') { expect(after).toEqual({ kind: 'fail', status: 502, error: 'connect_failed' }); break; }
      now += after.delayMs;
    }
    expect(tries).toEqual([0, 250, 500, 750, 1_000]);
    expect(f.path).toEqual(['s2', 's1', 's2', 's1', 's2']);
  });

  it('after the connection was made only GET is retried: a POST reset answers 502, a GET timeout is retried, then 504', () => {
    const r = router({ retries: 1, tryDurationMs: 0, tryIntervalMs: 0 });
    const post = r.start({ method: 'POST', nowMs: 0, bodyReplayable: true });
    r.next(post, 0);
    expect(r.attemptEnded(post, 5, { kind: 'reset' })).toEqual({ kind: 'fail', status: 502, error: 'upstream_reset' });
    const get = r.start({ method: 'GET', nowMs: 0, bodyReplayable: true });
    r.next(get, 0);
    expect(r.attemptEnded(get, 5, { kind: 'timeout' })).toEqual({ kind: 'retry', delayMs: 0 });
    r.next(get, 5);
    expect(r.attemptEnded(get, 9, { kind: 'timeout' })).toEqual({ kind: 'fail', status: 504, error: 'upstream_timeout' });
  });

  it('no available upstream: 503, or the earlier error when one failed before', () => {
    const r = router({ retries: 1, tryDurationMs: 0, tryIntervalMs: 0 }, 1);
    r.balancer.setAdminDown('s1', true, 0);
    const f = r.start({ method: 'GET', nowMs: 0, bodyReplayable: true });
    expect(r.next(f, 0)).toEqual({ kind: 'retry', delayMs: 0 });
    expect(r.next(f, 0)).toEqual({ kind: 'fail', status: 503, error: 'no_backend' });
    r.balancer.setAdminDown('s1', false, 0);
    const g = r.start({ method: 'GET', nowMs: 0, bodyReplayable: true });
    r.next(g, 0);
    expect(r.attemptEnded(g, 1, { kind: 'connect-error' })).toEqual({ kind: 'retry', delayMs: 0 });
    r.balancer.setAdminDown('s1', true, 1);
    expect(r.next(g, 1)).toEqual({ kind: 'fail', status: 502, error: 'connect_failed' });
  });
});
