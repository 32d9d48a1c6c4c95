// Laws every policy must obey, checked through the real Balancer, plus each load-aware
// policy's own properties. Every test involving chance has a seed and a stated tolerance.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import seedrandom from 'seedrandom';
import {
  Balancer, BalancerSchema, CandidateSet, POLICY_NAMES, type Backend, type BalancerConfig, type PolicyName, newTrace,
} from '../../core/index.ts';
import { PeakEwma } from '../../core/policies/peak-ewma.ts';
import { policyDefinition } from '../../core/policies/index.ts';

const rngOf = (seed: string) => seedrandom.alea(seed);

function balancer(policy: PolicyName, n: number, extra: Partial<BalancerConfig> = {}, health?: ConstructorParameters<typeof Balancer>[0]['health']) {
  const b = new Balancer({ balancer: BalancerSchema.parse({ policy, ...extra }), health, rng: rngOf(`lb-${policy}`) });
  for (let i = 1; i <= n; i++) b.add(`s${i}`, { nowMs: 0, initial: true });
  return b;
}

function backends(weights: number[]): Backend[] {
  return weights.map((w, i) => ({ id: `s${i + 1}`, seq: i, weight: w, effectiveWeight: w, inFlight: 0 }));
}

describe('every policy', () => {
  it.each(POLICY_NAMES)('%s never picks a draining, ejected, unhealthy or admin-down backend', (policy) => {
    const lb = new Balancer({
      balancer: BalancerSchema.parse({ policy, panicThresholdPercent: 0 }),
      health: { outlier: { consecutiveFailures: 1, baseEjectionMs: 1_000, maxEjectionMs: 10_000, jitterMs: 0, maxEjectionPercent: 100, count500: false } },
      rng: rngOf(policy),
    });
    for (let i = 1; i <= 6; i++) lb.add(`s${i}`, { nowMs: 0, initial: true });
    lb.remove('s2', 0); // idle → removed at once
    lb.attemptStarted(lb.backend('s3')!, 0);
    lb.remove('s3', 0); // busy → draining
    lb.attemptStarted(lb.backend('s4')!, 0);
    lb.attemptEnded(lb.backend('s4')!, 1, 1, { kind: 'connect-error' }); // ejected until 1001
    lb.setAdminDown('s5', true, 1);
    const seen = new Set<string>();
    for (let k = 0; k < 2_000; k++) {
      const pick = lb.pick({ nowMs: 10, hashKey: `10.0.${k >> 8}.${k & 255}` });
      expect(pick).toBeDefined();
      seen.add(pick!.id);
    }
    // HAProxy's first and leastconn keep idle sequential picks on the first free server.
    if (policy === 'haproxy-first' || policy === 'haproxy-leastconn' || policy === 'caddy-first') expect(['s1', 's6']).toEqual(expect.arrayContaining([...seen]));
    else expect([...seen].sort()).toEqual(['s1', 's6']);
  });

  // HAProxy's models avoid only as HAProxy does (a redispatch's previous server, when
  // another will do); test/proxies/haproxy-models.test.ts states their law. Caddy's
  // random_choose may find nothing while an upstream is available (its reservoir index counts
  // unavailable ones; test/proxies/caddy-models.test.ts shows it).
  it.each(POLICY_NAMES.filter((p) => !policyDefinition(p).traits.avoidsExcluded && p !== 'caddy-random-choose'))('%s never picks a backend the request already tried', (policy) => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 8 }), fc.integer({ min: 0, max: 1e6 }), (n, key) => {
      const lb = balancer(policy, n);
      const tried = new Set<string>();
      for (let attempt = 0; attempt < n; attempt++) {
        const pick = lb.pick({ nowMs: 0, hashKey: String(key), attempt, exclude: tried });
        expect(pick).toBeDefined();
        expect(tried.has(pick!.id)).toBe(false);
        tried.add(pick!.id);
      }
      expect(lb.pick({ nowMs: 0, hashKey: String(key), exclude: tried })).toBeUndefined();
    }), { numRuns: 30 });
  });

  it.each(POLICY_NAMES)('%s makes the same decisions from the same seed', (policy) => {
    const run = () => {
      const lb = balancer(policy, 5);
      const rng = rngOf('workload');
      const picks: string[] = [];
      const open: Backend[] = [];
      for (let k = 0; k < 500; k++) {
        const b = lb.pick({ nowMs: k, hashKey: `c${Math.floor(rng() * 50)}` })!;
        lb.attemptStarted(b, k);
        open.push(b);
        if (rng() < 0.6) lb.attemptEnded(open.shift()!, k, 1 + rng() * 20, { kind: 'response', status: 200 });
        picks.push(b.id);
      }
      return picks.join(',');
    };
    expect(run()).toBe(run());
  });

  it('panic routes over every eligible backend when too few are healthy (Envoy: 50 %)', () => {
    const lb = new Balancer({
      balancer: BalancerSchema.parse({ policy: 'round-robin', panicThresholdPercent: 50 }),
      health: { outlier: { consecutiveFailures: 1, baseEjectionMs: 1_000, maxEjectionMs: 1_000, jitterMs: 0, maxEjectionPercent: 100, count500: false } },
      rng: rngOf('panic'),
    });
    for (const id of ['s1', 's2', 's3']) lb.add(id, { nowMs: 0, initial: true });
    for (const id of ['s1', 's2']) {
      lb.attemptStarted(lb.backend(id)!, 0);
      lb.attemptEnded(lb.backend(id)!, 0, 1, { kind: 'reset' });
    }
    const trace = newTrace();
    lb.pick({ nowMs: 1 }, trace);
    expect(lb.inPanic).toBe(true);
    expect(trace.panic).toBe(true);
    expect(trace.candidates).toBe(3);
    const ids = new Set(Array.from({ length: 6 }, () => lb.pick({ nowMs: 1 })!.id));
    expect([...ids].sort()).toEqual(['s1', 's2', 's3']);
    // Ejections over: back to normal, panic ends.
    lb.pick({ nowMs: 1_001 });
    expect(lb.inPanic).toBe(false);
  });

  it('explains each pick: candidates, skipped backends and reasons', () => {
    const lb = balancer('p2c', 4, {}, { active: { intervalMs: 100, timeoutMs: 50, rise: 2, fall: 1, jitterMs: 0, path: '/heartbeat', requireFirstPass: false } });
    lb.probeResult('s2', false, 0);
    lb.setAdminDown('s3', true, 0);
    const trace = newTrace();
    const pick = lb.pick({ nowMs: 5, attempt: 1, exclude: new Set(['s1']) }, trace);
    expect(pick!.id).toBe('s4');
    expect(trace).toMatchObject({
      nowMs: 5, attempt: 1, policy: 'p2c', candidates: 1, panic: false, chosen: 's4',
      skipped: [{ id: 's1', reason: 'excluded' }, { id: 's2', reason: 'unhealthy' }, { id: 's3', reason: 'admin-down' }],
    });
  });
});

describe('round-robin', () => {
  it('over any number of picks, counts differ by at most one', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 2_000 }), (n, picks) => {
      const lb = balancer('round-robin', n);
      const counts = new Map<string, number>();
      for (let k = 0; k < picks; k++) {
        const id = lb.pick({ nowMs: k })!.id;
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      const values = lb.ids().map((id) => counts.get(id) ?? 0);
      expect(Math.max(...values) - Math.min(...values)).toBeLessThanOrEqual(1);
    }));
  });

  it('reproduces the original A-1: 10,000 requests over 3 servers give 3334/3333/3333', () => {
    const lb = balancer('round-robin', 3);
    const counts: Record<string, number> = {};
    for (let k = 0; k < 10_000; k++) {
      const id = lb.pick({ nowMs: k })!.id;
      counts[id] = (counts[id] ?? 0) + 1;
    }
    expect(counts).toEqual({ s1: 3334, s2: 3333, s3: 3333 });
  });
});

describe('weighted-round-robin (smooth, NGINX)', () => {
  it('at every prefix each count is within one of its weight share', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 400 }), (weights, picks) => {
      const lb = new Balancer({ balancer: BalancerSchema.parse({ policy: 'weighted-round-robin' }), rng: rngOf('wrr') });
      weights.forEach((w, i) => lb.add(`s${i + 1}`, { nowMs: 0, weight: w, initial: true }));
      const total = weights.reduce((a, b) => a + b, 0);
      const counts = new Array(weights.length).fill(0);
      for (let k = 1; k <= picks; k++) {
        counts[Number(lb.pick({ nowMs: k })!.id.slice(1)) - 1]++;
        weights.forEach((w, i) => expect(Math.abs(counts[i] - (k * w) / total)).toBeLessThan(1 + 1e-9));
      }
    }));
  });

  it('interleaves instead of bursting: 5:1:1 gives a a b a c a a', () => {
    const lb = new Balancer({ balancer: BalancerSchema.parse({ policy: 'weighted-round-robin' }), rng: rngOf('wrr') });
    lb.add('a', { nowMs: 0, weight: 5, initial: true });
    lb.add('b', { nowMs: 0, weight: 1, initial: true });
    lb.add('c', { nowMs: 0, weight: 1, initial: true });
    expect(Array.from({ length: 7 }, () => lb.pick({ nowMs: 0 })!.id).join(' ')).toBe('a a b a c a a');
  });
});

/**
 * Identical idle backends must get equal shares (traefik#12306 is the failure this guards).
 * With n backends and N picks each count is Binomial(N, 1/n); we allow 5 standard
 * deviations, a bound a fair policy breaks with probability < 1e-6 per backend.
 */
describe.each(['random', 'p2c', 'peak-ewma', 'least-connections'] as const)('%s on identical backends', (policy) => {
  it('gives each an equal share within 5 standard deviations', () => {
    const n = 5, picks = 20_000;
    const lb = balancer(policy, n);
    const counts = new Map<string, number>();
    const open: Array<[Backend, number]> = [];
    for (let k = 0; k < picks; k++) {
      const now = k;
      while (open.length > 3) { // keep a few requests in flight, identical service everywhere
        const [b, start] = open.shift()!;
        lb.attemptEnded(b, now, now - start, { kind: 'response', status: 200 });
      }
      const b = lb.pick({ nowMs: now })!;
      lb.attemptStarted(b, now);
      open.push([b, now]);
      counts.set(b.id, (counts.get(b.id) ?? 0) + 1);
    }
    const mean = picks / n;
    const sd = Math.sqrt(picks * (1 / n) * (1 - 1 / n));
    for (const id of lb.ids()) expect(Math.abs((counts.get(id) ?? 0) - mean)).toBeLessThan(5 * sd);
  });
});

describe('random', () => {
  it('follows weights: 1:3 gives a quarter and three quarters within 5 sd', () => {
    const lb = new Balancer({ balancer: BalancerSchema.parse({ policy: 'random' }), rng: rngOf('weighted') });
    lb.add('light', { nowMs: 0, weight: 1, initial: true });
    lb.add('heavy', { nowMs: 0, weight: 3, initial: true });
    const N = 40_000;
    let light = 0;
    for (let k = 0; k < N; k++) if (lb.pick({ nowMs: 0 })!.id === 'light') light++;
    expect(Math.abs(light - N / 4)).toBeLessThan(5 * Math.sqrt(N * 0.25 * 0.75));
  });
});

describe('least-connections', () => {
  it('always picks a backend with the fewest in flight per weight', () => {
    fc.assert(fc.property(fc.array(fc.nat(20), { minLength: 1, maxLength: 12 }), (loads) => {
      const lb = balancer('least-connections', loads.length);
      loads.forEach((l, i) => { for (let k = 0; k < l; k++) lb.attemptStarted(lb.backend(`s${i + 1}`)!, 0); });
      const pick = lb.pick({ nowMs: 0 })!;
      expect(pick.inFlight).toBe(Math.min(...loads));
    }));
  });
});

describe('p2c', () => {
  it('never picks the most loaded of n >= 2 backends when loads are distinct', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.nat(50), { minLength: 2, maxLength: 10 }), fc.string(), (loads, seed) => {
      const lb = new Balancer({ balancer: BalancerSchema.parse({ policy: 'p2c' }), rng: rngOf(seed) });
      loads.forEach((l, i) => {
        lb.add(`s${i}`, { nowMs: 0, initial: true });
        for (let k = 0; k < l; k++) lb.attemptStarted(lb.backend(`s${i}`)!, 0);
      });
      for (let k = 0; k < 20; k++) expect(lb.pick({ nowMs: 0 })!.inFlight).toBeLessThan(Math.max(...loads));
    }));
  });

  it('with choices = n it is least-request', () => {
    const lb = new Balancer({ balancer: BalancerSchema.parse({ policy: 'p2c', choices: 4 }), rng: rngOf('c4') });
    [3, 1, 2, 5].forEach((l, i) => {
      lb.add(`s${i}`, { nowMs: 0, initial: true });
      for (let k = 0; k < l; k++) lb.attemptStarted(lb.backend(`s${i}`)!, 0);
    });
    expect(lb.pick({ nowMs: 0 })!.id).toBe('s1');
  });
});

describe('peak-ewma', () => {
  const opts = { choices: 2, decayMs: 10_000, defaultRttMs: 10, penaltyMs: 1_000 };

  it('jumps to a slower sample at once and decays toward faster ones', () => {
    const p = new PeakEwma(rngOf('x'), opts);
    const [b] = backends([1]);
    p.setMembers([b]);
    expect(p.cost(b, 0)).toBe(10); // default RTT for a new backend
    p.onAttemptEnd(b, 0, 100, { kind: 'response', status: 200 });
    expect(p.cost(b, 0)).toBe(100); // the peak
    p.onAttemptEnd(b, 10_000, 10, { kind: 'response', status: 200 });
    // 100 × e^-1 + 10 × (1 − e^-1)
    expect(p.cost(b, 10_000)).toBeCloseTo(100 * Math.exp(-1) + 10 * (1 - Math.exp(-1)), 9);
  });

  it('never starves: an idle backend that was slow becomes cheap again and is probed', () => {
    const p = new PeakEwma(rngOf('x'), opts);
    const [slow, fast] = backends([1, 1]);
    p.setMembers([slow, fast]);
    p.onAttemptEnd(slow, 0, 500, { kind: 'response', status: 200 });
    p.onAttemptEnd(fast, 0, 5, { kind: 'response', status: 200 });
    expect(p.cost(slow, 1_000)).toBeGreaterThan(p.cost(fast, 1_000));
    // The slow estimate decays while idle; the fast one keeps being refreshed with samples.
    for (let t = 1_000; t <= 60_000; t += 1_000) p.onAttemptEnd(fast, t, 5, { kind: 'response', status: 200 });
    expect(p.cost(slow, 60_000)).toBeLessThan(p.cost(fast, 60_000));
  });

  it('charges 429 and 503 the penalty, so fast rejections do not attract traffic', () => {
    const p = new PeakEwma(rngOf('x'), opts);
    const [rejecting, serving] = backends([1, 1]);
    p.setMembers([rejecting, serving]);
    p.onAttemptEnd(rejecting, 0, 1, { kind: 'response', status: 429 });
    p.onAttemptEnd(serving, 0, 50, { kind: 'response', status: 200 });
    expect(p.cost(rejecting, 0)).toBe(1_000);
    expect(p.cost(serving, 0)).toBe(50);
  });

  it('cost grows with requests in flight: latency × (active + 1)', () => {
    const p = new PeakEwma(rngOf('x'), opts);
    const [b] = backends([1]);
    p.setMembers([b]);
    p.onAttemptEnd(b, 0, 20, { kind: 'response', status: 200 });
    b.inFlight = 3;
    expect(p.cost(b, 0)).toBe(80);
  });
});

describe('slow start', () => {
  it('ramps a backend added at runtime from the floor to its full weight over the window', () => {
    const lb = new Balancer({
      balancer: BalancerSchema.parse({ policy: 'weighted-round-robin', slowStart: { windowMs: 1_000, minWeightPercent: 10 } }),
      rng: rngOf('ss'),
    });
    lb.add('old', { nowMs: 0, weight: 1, initial: true });
    expect(lb.backend('old')!.effectiveWeight).toBe(1); // present at start: no ramp (HAProxy)
    lb.add('new', { nowMs: 0, weight: 1 });
    const share = (fromMs: number) => {
      let hits = 0;
      for (let k = 0; k < 100; k++) if (lb.pick({ nowMs: fromMs })!.id === 'new') hits++;
      return hits / 100;
    };
    expect(share(0)).toBeLessThan(0.15); // 10 % floor → ~0.09 share
    expect(lb.backend('new')!.effectiveWeight).toBeCloseTo(0.1, 9);
    lb.pick({ nowMs: 500 });
    expect(lb.backend('new')!.effectiveWeight).toBeCloseTo(0.5, 9);
    expect(share(1_000)).toBeCloseTo(0.5, 1);
    expect(lb.backend('new')!.effectiveWeight).toBe(1);
  });

  it('also ramps a backend that comes back from an ejection', () => {
    const lb = new Balancer({
      balancer: BalancerSchema.parse({ policy: 'p2c', slowStart: { windowMs: 1_000 } }),
      health: { outlier: { consecutiveFailures: 1, baseEjectionMs: 100, maxEjectionMs: 100, jitterMs: 0, maxEjectionPercent: 50, count500: false } },
      rng: rngOf('ss2'),
    });
    lb.add('a', { nowMs: 0, initial: true });
    lb.add('b', { nowMs: 0, initial: true });
    lb.attemptStarted(lb.backend('a')!, 0);
    lb.attemptEnded(lb.backend('a')!, 0, 1, { kind: 'reset' });
    lb.pick({ nowMs: 100 }); // ejection over
    expect(lb.backend('a')!.effectiveWeight).toBeCloseTo(0.1, 9);
  });
});

describe('CandidateSet', () => {
  it('caches totals and notices uniform weights', () => {
    const s = new CandidateSet(backends([1, 1, 2]));
    expect(s.totalWeight).toBe(4);
    expect(s.uniformWeights).toBe(false);
    expect(new CandidateSet(backends([3, 3])).uniformWeights).toBe(true);
  });
});
