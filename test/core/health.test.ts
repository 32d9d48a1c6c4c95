// Active checks (rise/fall), outlier ejection timing, the cap on a 3-backend pool, and
// what does and does not count as a backend failure.
import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import {
  ActiveHealthSchema, Balancer, BalancerSchema, type BalancerEvent, OutlierSchema, isBackendFailure, maxEjected, nextProbeDelayMs,
} from '../../core/index.ts';

const outlier = OutlierSchema.parse({ consecutiveFailures: 5, baseEjectionMs: 1_000, maxEjectionMs: 3_000, maxEjectionPercent: 50 });

function pool(n: number, over: Partial<typeof outlier> = {}, panicThresholdPercent = 0) {
  const events: BalancerEvent[] = [];
  const lb = new Balancer({
    balancer: BalancerSchema.parse({ policy: 'round-robin', panicThresholdPercent }),
    health: { outlier: { ...outlier, ...over } },
    rng: seedrandom.alea('outlier'),
    onEvent: (e) => events.push(e),
  });
  for (let i = 1; i <= n; i++) lb.add(`s${i}`, { nowMs: 0, initial: true });
  const fail = (id: string, atMs: number, times = 1, outcome: Parameters<Balancer['attemptEnded']>[3] = { kind: 'response', status: 503 }) => {
    for (let k = 0; k < times; k++) {
      const b = lb.backend(id)!;
      lb.attemptStarted(b, atMs);
      lb.attemptEnded(b, atMs, 1, outcome);
    }
  };
  const routable = (atMs: number) => lb.status(atMs).filter((s) => s.routable).map((s) => s.id);
  return { lb, events, fail, routable };
}

describe('what counts as a backend failure', () => {
  it.each([
    [{ kind: 'connect-error' }, true], [{ kind: 'reset' }, true], [{ kind: 'timeout' }, true],
    [{ kind: 'response', status: 502 }, true], [{ kind: 'response', status: 503 }, true], [{ kind: 'response', status: 504 }, true],
    [{ kind: 'response', status: 500 }, false], [{ kind: 'response', status: 501 }, false], [{ kind: 'response', status: 505 }, false],
    [{ kind: 'response', status: 404 }, false], [{ kind: 'response', status: 429 }, false], [{ kind: 'response', status: 200 }, false],
    [{ kind: 'local-reject' }, false], [{ kind: 'client-abort' }, false],
  ] as const)('%o → %s', (outcome, failure) => {
    expect(isBackendFailure(outcome, false)).toBe(failure);
  });

  it('500 counts only when asked', () => {
    expect(isBackendFailure({ kind: 'response', status: 500 }, true)).toBe(true);
  });
});

describe('outlier ejection timing', () => {
  it('ejects exactly at the 5th consecutive failure, for base × times-ejected, capped', () => {
    const { lb, events, fail } = pool(4, { maxEjectionPercent: 100 });
    fail('s1', 0, 4);
    expect(events).toEqual([]);
    fail('s1', 10);
    expect(events).toEqual([{ kind: 'ejected', id: 's1', atMs: 10, untilMs: 1_010, times: 1 }]);
    expect(lb.status(1_009)[0].routable).toBe(false);
    expect(lb.status(1_010)[0].routable).toBe(true);
    // Fails again right away: the second ejection lasts 2 × base, the third 3 ×, then the cap.
    fail('s1', 1_010, 5);
    fail('s1', 3_010, 5);
    fail('s1', 6_010, 5);
    const untils = events.filter((e) => e.kind === 'ejected').map((e) => (e as { untilMs: number }).untilMs);
    expect(untils).toEqual([1_010, 3_010, 6_010, 9_010]);
  });

  it('a success resets the consecutive counter', () => {
    const { events, fail, lb } = pool(3);
    fail('s1', 0, 4);
    lb.attemptStarted(lb.backend('s1')!, 0);
    lb.attemptEnded(lb.backend('s1')!, 0, 1, { kind: 'response', status: 200 });
    fail('s1', 0, 4);
    expect(events.filter((e) => e.kind === 'ejected')).toEqual([]);
  });

  it('4xx, client aborts and the proxy\'s own rejections never eject', () => {
    const { events, fail } = pool(3);
    fail('s1', 0, 20, { kind: 'response', status: 404 });
    fail('s1', 0, 20, { kind: 'client-abort' });
    fail('s1', 0, 20, { kind: 'local-reject' });
    expect(events).toEqual([]);
  });

  it('the multiplier decays while the backend stays healthy', () => {
    const { events, fail } = pool(3, { decayMs: 1_000 });
    fail('s1', 0, 5); // ejected until 1000, times 1
    fail('s1', 1_000, 5); // right away again: times 2, until 3000
    fail('s1', 10_000, 5); // 7 s healthy since 3000: decays to 0, then 1
    const times = events.filter((e) => e.kind === 'ejected').map((e) => (e as { times: number }).times);
    expect(times).toEqual([1, 2, 1]);
  });

  it('jitter adds up to jitterMs, seeded', () => {
    const { events, fail } = pool(3, { jitterMs: 500 });
    fail('s1', 0, 5);
    const until = (events[0] as { untilMs: number }).untilMs;
    expect(until).toBeGreaterThanOrEqual(1_000);
    expect(until).toBeLessThan(1_500);
  });
});

describe('the ejection cap on a 3-backend pool', () => {
  it('maxEjected: the share, but always at least one', () => {
    expect(maxEjected(3, 50)).toBe(1);
    expect(maxEjected(3, 10)).toBe(1); // Envoy's always_eject_one_host
    expect(maxEjected(3, 67)).toBe(2);
    expect(maxEjected(3, 100)).toBe(3);
    expect(maxEjected(3, 0)).toBe(0);
    expect(maxEjected(10, 10)).toBe(1);
    expect(maxEjected(20, 10)).toBe(2);
  });

  it('with 2 of 3 failing and a 50 % cap only one is ejected at a time', () => {
    const { fail, routable, events } = pool(3);
    fail('s1', 0, 5);
    fail('s2', 0, 5);
    expect(routable(1)).toEqual(['s2', 's3']);
    expect(events.filter((e) => e.kind === 'ejected').map((e) => (e as { id: string }).id)).toEqual(['s1']);
    // Once s1's ejection ends, s2 may be ejected by its next failures.
    fail('s2', 1_000, 5);
    expect(routable(1_001)).toEqual(['s1', 's3']);
  });

  it('all three failing: never all ejected, every request still has somewhere to go', () => {
    const { fail, lb } = pool(3, { maxEjectionPercent: 100 }, 50);
    for (const id of ['s1', 's2', 's3']) fail(id, 0, 5);
    // A 100 % cap lets all three go; panic (50 %) then routes over all of them.
    expect(lb.pick({ nowMs: 1 })).toBeDefined();
    expect(lb.inPanic).toBe(true);
  });
});

describe('active health checks', () => {
  const active = ActiveHealthSchema.parse({ intervalMs: 100, timeoutMs: 50, rise: 2, fall: 3, jitterMs: 20 });

  function checked(requireFirstPass = true) {
    const events: BalancerEvent[] = [];
    const lb = new Balancer({
      balancer: BalancerSchema.parse({ policy: 'round-robin', panicThresholdPercent: 0 }),
      health: { active: { ...active, requireFirstPass } },
      rng: seedrandom.alea('hc'),
      onEvent: (e) => events.push(e),
    });
    lb.add('s1', { nowMs: 0, initial: true });
    lb.add('s2', { nowMs: 0, initial: true });
    return { lb, events };
  }

  it('a new backend gets no traffic until its first probe passes', () => {
    const { lb } = checked();
    expect(lb.pick({ nowMs: 0 })).toBeUndefined();
    lb.probeResult('s2', true, 10);
    expect(lb.pick({ nowMs: 10 })!.id).toBe('s2');
  });

  it('requireFirstPass: false routes at once', () => {
    const { lb } = checked(false);
    expect(lb.pick({ nowMs: 0 })).toBeDefined();
  });

  it('goes down after `fall` consecutive failures and up after `rise` passes', () => {
    const { lb, events } = checked();
    lb.probeResult('s1', true, 0);
    lb.probeResult('s2', true, 0);
    lb.probeResult('s1', false, 100);
    lb.probeResult('s1', false, 200);
    lb.probeResult('s1', true, 300); // a pass resets the failure count
    lb.probeResult('s1', false, 400);
    lb.probeResult('s1', false, 500);
    expect(lb.status(500)[0].health).toBe('healthy');
    lb.probeResult('s1', false, 600);
    expect(lb.status(600)[0].health).toBe('unhealthy');
    expect(new Set(Array.from({ length: 4 }, () => lb.pick({ nowMs: 600 })!.id))).toEqual(new Set(['s2']));
    lb.probeResult('s1', true, 700);
    expect(lb.status(700)[0].health).toBe('unhealthy');
    lb.probeResult('s1', true, 800);
    expect(lb.status(800)[0].health).toBe('healthy');
    expect(events.filter((e) => e.kind === 'health' && e.id === 's1').map((e) => [e.atMs, (e as { status: string }).status]))
      .toEqual([[0, 'healthy'], [600, 'unhealthy'], [800, 'healthy']]);
  });

  it('a passing probe ends an outlier ejection early (Envoy default)', () => {
    const lb = new Balancer({
      balancer: BalancerSchema.parse({ policy: 'round-robin' }),
      health: { active: { ...active, requireFirstPass: false }, outlier: { ...outlier, consecutiveFailures: 1 } },
      rng: seedrandom.alea('x'),
    });
    lb.add('s1', { nowMs: 0, initial: true });
    lb.add('s2', { nowMs: 0, initial: true });
    lb.attemptStarted(lb.backend('s1')!, 0);
    lb.attemptEnded(lb.backend('s1')!, 0, 1, { kind: 'reset' });
    expect(lb.status(1)[0].routable).toBe(false);
    lb.probeResult('s1', true, 50);
    expect(lb.status(50)[0].routable).toBe(true);
  });

  it('probe intervals are jittered within [interval, interval + jitter)', () => {
    const r = seedrandom.alea('j');
    for (let k = 0; k < 100; k++) {
      const d = nextProbeDelayMs(active, r);
      expect(d).toBeGreaterThanOrEqual(100);
      expect(d).toBeLessThan(120);
    }
  });
});

describe('drain on removal', () => {
  it('a busy backend stops getting picks at once and is removed when its last attempt ends', () => {
    const events: BalancerEvent[] = [];
    const lb = new Balancer({ balancer: BalancerSchema.parse({ policy: 'round-robin' }), rng: seedrandom.alea('d'), onEvent: (e) => events.push(e) });
    lb.add('s1', { nowMs: 0, initial: true });
    lb.add('s2', { nowMs: 0, initial: true });
    const s2 = lb.backend('s2')!;
    lb.attemptStarted(s2, 0);
    lb.attemptStarted(s2, 0);
    lb.remove('s2', 5);
    for (let k = 0; k < 4; k++) expect(lb.pick({ nowMs: 5 })!.id).toBe('s1');
    lb.attemptEnded(s2, 6, 1, { kind: 'response', status: 200 });
    expect(lb.has('s2')).toBe(true);
    lb.attemptEnded(s2, 7, 1, { kind: 'response', status: 200 });
    expect(lb.has('s2')).toBe(false);
    expect(events).toEqual([{ kind: 'draining', id: 's2', atMs: 5 }, { kind: 'removed', id: 's2', atMs: 7 }]);
  });
});

describe('time is explicit: reads are pure, expiries happen at their exact times', () => {
  /** A pool with ejection, slow start and panic, driven by a script of inputs. */
  function drive(readBetween: boolean) {
    const events: BalancerEvent[] = [];
    const lb = new Balancer({
      balancer: BalancerSchema.parse({ policy: 'weighted-round-robin', panicThresholdPercent: 50, slowStart: { windowMs: 2_000 } }),
      health: { outlier: { ...outlier, maxEjectionPercent: 100 } },
      rng: seedrandom.alea('pure'),
      onEvent: (e) => events.push(e),
    });
    for (const id of ['s1', 's2', 's3']) lb.add(id, { nowMs: 0, initial: true });
    const picks: string[] = [];
    const read = (atMs: number) => {
      if (!readBetween) return;
      // Everything an engine, a probe or a metrics scrape may read, at a time after the ejections end.
      lb.status(atMs);
      lb.hasCandidateBesides(new Set());
      void lb.inPanic;
      lb.nextDeadlineMs();
      lb.ids();
    };
    for (const id of ['s1', 's2']) {
      for (let k = 0; k < 5; k++) {
        const b = lb.backend(id)!;
        lb.attemptStarted(b, 10);
        lb.attemptEnded(b, 10, 1, { kind: 'response', status: 503 });
      }
    }
    read(5_000);
    for (let t = 20; t < 4_000; t += 37) {
      read(t + 1_500);
      picks.push(lb.pick({ nowMs: t })!.id);
    }
    return { events, picks, lb };
  }

  it('a read between two inputs changes nothing: same events, same picks', () => {
    const quiet = drive(false);
    const probed = drive(true);
    expect(probed.events).toEqual(quiet.events);
    expect(probed.picks).toEqual(quiet.picks);
    // The reads saw an ejected pool in panic and did not end the ejections early.
    expect(quiet.events.slice(0, 3)).toEqual([
      { kind: 'ejected', id: 's1', atMs: 10, untilMs: 1_010, times: 1 },
      { kind: 'ejected', id: 's2', atMs: 10, untilMs: 1_010, times: 1 },
      { kind: 'panic', atMs: 10, active: true },
    ]);
  });

  it('ejections end at untilMs, not when the next input happens to come', () => {
    const { events } = drive(false);
    // The first pick after 1010 is at 1021, but the ejections ended, panic ended and slow start began at 1010.
    expect(events.slice(3)).toEqual([
      { kind: 'unejected', id: 's1', atMs: 1_010 },
      { kind: 'unejected', id: 's2', atMs: 1_010 },
      { kind: 'panic', atMs: 1_010, active: false },
    ]);
  });

  it('nextDeadlineMs names the next expiry, and advance() applies it without any other input', () => {
    const { lb, fail, events } = pool(3, { maxEjectionPercent: 100 });
    expect(lb.nextDeadlineMs()).toBe(Infinity);
    fail('s1', 0, 5);
    fail('s2', 300, 5);
    expect(lb.nextDeadlineMs()).toBe(1_000);
    lb.advance(999);
    expect(lb.hasCandidateBesides(new Set(['s3']))).toBe(false);
    lb.advance(1_000);
    expect(lb.hasCandidateBesides(new Set(['s3']))).toBe(true);
    expect(lb.nextDeadlineMs()).toBe(1_300);
    lb.advance(5_000);
    expect(lb.nextDeadlineMs()).toBe(Infinity);
    expect(events.filter((e) => e.kind === 'unejected')).toEqual([
      { kind: 'unejected', id: 's1', atMs: 1_000 },
      { kind: 'unejected', id: 's2', atMs: 1_300 },
    ]);
  });
});
