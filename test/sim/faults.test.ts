// Fault scenarios, stated as laws about who fails and when.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../../experiments/schema.ts';
import { MemoryRecorder, configs, simulate } from './helpers.ts';
import { Simulation } from '../../sim/model/simulation.ts';
import type { FulcrumRules } from '../../core/retry.ts';

const crashFixture = parseExperiment(readFileSync('test/sim/fixtures/crash-restart.json', 'utf8'), 'crash-restart.json');
const variant = (name: string) => crashFixture.runs.find((r) => r.variant?.name === name)!.config;
const CRASH_AT_MS = 2000;
const RESTART_AT_MS = 3500;

describe('s2 crashes at 2 s and restarts at 3.5 s (test/sim/fixtures/crash-restart.json)', () => {
  it('with retries (budget 10) no GET fails, and s2 gets traffic again after the restart', () => {
    const { recorder } = simulate(variant('retries'));
    expect(recorder.requests).toHaveLength(4000);
    expect(recorder.requests.filter((r) => r.outcome !== 'ok')).toEqual([]);
    const retried = recorder.requests.filter((r) => r.servers.length > 1);
    expect(retried.length).toBeGreaterThan(0);
    expect(retried.every((r) => r.servers[0] === 's2')).toBe(true);
    expect(recorder.starts.some(([id, atMs]) => id === 's2' && atMs > RESTART_AT_MS)).toBe(true);
  });

  it('without retries, failures are s2 requests ending between the crash and its ejection', () => {
    const { recorder, sim } = simulate(variant('no-retries'));
    const failed = recorder.requests.filter((r) => r.outcome !== 'ok');
    expect(failed.length).toBeGreaterThan(0);
    const ejectedAt = sim.balancerEvents.find((e) => e.kind === 'ejected' && e.id === 's2')!.atMs;
    expect(ejectedAt).toBeGreaterThanOrEqual(CRASH_AT_MS);
    expect(ejectedAt).toBeLessThan(CRASH_AT_MS + 100); // 5 consecutive failures come fast at 800 req/s
    for (const r of failed) {
      expect(r.servers).toEqual(['s2']);
      expect(r.endMs).toBeGreaterThanOrEqual(CRASH_AT_MS);
      expect(r.endMs).toBeLessThanOrEqual(ejectedAt + 1);
      expect(['upstream_reset', 'connect_failed']).toContain(r.outcome);
    }
    // Requests in flight on s2 at the crash are reset; later ones are refused.
    expect(failed.some((r) => r.outcome === 'upstream_reset' && r.startMs < CRASH_AT_MS)).toBe(true);
    expect(failed.some((r) => r.outcome === 'connect_failed' && r.startMs >= CRASH_AT_MS)).toBe(true);
  });

  it('every ejection ends exactly at its untilMs, not at the next pick that happens to notice', () => {
    // Outlier detection alone (a passing probe would end an ejection early), 300 ms ejections.
    const cfg = variant('no-retries');
    const { sim } = simulate({ ...cfg, health: { outlier: { ...cfg.health!.outlier!, baseEjectionMs: 300 } } });
    const ejections = sim.balancerEvents.filter((e) => e.kind === 'ejected');
    const ends = sim.balancerEvents.filter((e) => e.kind === 'unejected');
    expect(ejections.length).toBeGreaterThan(1);
    expect(ends.map((e) => [e.id, e.atMs])).toEqual(ejections.filter((e) => e.untilMs <= sim.nowMs).map((e) => [e.id, e.untilMs]));
  });

  it('with neither retries nor health checks, s2 requests fail until the restart, then succeed', () => {
    const { recorder } = simulate(variant('no-health'));
    const failed = recorder.requests.filter((r) => r.outcome !== 'ok');
    expect(failed.every((r) => r.servers[0] === 's2' && r.endMs >= CRASH_AT_MS && r.endMs <= RESTART_AT_MS + 1)).toBe(true);
    // Round robin keeps sending every third request to s2 while it is down.
    const s2Starts = recorder.starts.filter(([id, at]) => id === 's2' && at > CRASH_AT_MS + 10 && at < RESTART_AT_MS - 10).length;
    expect(failed.length).toBeGreaterThanOrEqual(s2Starts);
    const after = recorder.requests.filter((r) => r.servers[0] === 's2' && r.startMs > RESTART_AT_MS + 1);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((r) => r.outcome === 'ok')).toBe(true);
  });

  it('startupMs delays the restarted server: it listens only restartAfterMs + startupMs after the crash', () => {
    const cfg = variant('no-health');
    const slowStart = structuredClone(cfg);
    const crash = slowStart.faults![0] as { startupMs?: number };
    crash.startupMs = 400;
    const listensAtMs = RESTART_AT_MS + 400;
    const { recorder } = simulate(slowStart);
    const failed = recorder.requests.filter((r) => r.outcome !== 'ok');
    expect(failed.every((r) => r.servers[0] === 's2' && r.endMs <= listensAtMs + 1)).toBe(true);
    expect(failed.some((r) => r.startMs > RESTART_AT_MS + 10)).toBe(true); // refused during the start-up
    expect(failed.length).toBeGreaterThan(simulate(cfg).recorder.requests.filter((r) => r.outcome !== 'ok').length);
    const after = recorder.requests.filter((r) => r.servers[0] === 's2' && r.startMs > listensAtMs + 1);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((r) => r.outcome === 'ok')).toBe(true);
  });

  it('a retry budget of 3 is used up by the resets at the crash: some connect failures leak through', () => {
    const { recorder, sim } = simulate(variant('tight-budget'));
    expect((sim.router.rules as FulcrumRules).budget.overflows).toBeGreaterThan(0);
    const failed = recorder.requests.filter((r) => r.outcome !== 'ok');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((r) => r.outcome === 'connect_failed' && r.servers.length === 1)).toBe(true);
  });
});

/** Two servers, steady closed-loop load, one fault on s1. */
function twoServers(extra: Record<string, unknown>) {
  return configs({
    name: 'fault', seed: 9,
    servers: { count: 2, template: { serviceTimeMs: { dist: 'constant', value: 2 }, concurrency: 1 } },
    workload: { durationMs: 3000, arrival: { process: 'poisson', ratePerSec: 300 } },
    ...extra,
  })[0];
}

describe('time alone changes routing: the balancer-deadline event', () => {
  it('after every event no ejection is overdue, even between requests (timeline ticks, quiet gaps)', () => {
    const [cfg] = configs({
      name: 'deadline', seed: 3,
      servers: { count: 3, template: { serviceTimeMs: { dist: 'exponential', mean: 2 } } },
      workload: { durationMs: 4_000, arrival: { process: 'poisson', ratePerSec: 40 } },
      health: { outlier: { consecutiveFailures: 2, baseEjectionMs: 150, maxEjectionPercent: 100 } },
      faults: [{ atMs: 500, server: 's2', kind: 'errors', probability: 1, durationMs: 2_500 }],
    });
    const sim = new Simulation(cfg, new MemoryRecorder());
    let overdue = 0;
    let done = false;
    while (!done) {
      done = sim.step(1);
      if (sim.balancer.nextDeadlineMs() < sim.nowMs) overdue++;
    }
    expect(sim.balancerEvents.filter((e) => e.kind === 'ejected').length).toBeGreaterThan(3);
    expect(overdue).toBe(0);
  });
});

describe('fault kinds', () => {
  it('hang: the proxy times out per try and the retry goes to the other server', () => {
    const { recorder } = simulate(twoServers({
      retry: { maxAttempts: 2 }, timeouts: { perTryMs: 50, requestMs: 1000 },
      faults: [{ atMs: 1000, server: 's1', kind: 'hang', durationMs: 500 }],
    }));
    expect(recorder.requests.every((r) => r.outcome === 'ok')).toBe(true);
    const rescued = recorder.requests.filter((r) => r.servers.join('|') === 's1|s2');
    expect(rescued.length).toBeGreaterThan(0);
    // The proxy waited out the 50 ms per-try timeout (plus up to 25 ms backoff) for each.
    expect(rescued.every((r) => r.endMs - r.startMs >= 50)).toBe(true);
  });

  it('hang without retries: s1 requests time out during the hang and while its backlog drains after it', () => {
    const { recorder, sim } = simulate(twoServers({
      timeouts: { perTryMs: 50, requestMs: 1000 },
      faults: [{ atMs: 1000, server: 's1', kind: 'hang', durationMs: 500 }],
    }));
    const timedOut = recorder.requests.filter((r) => r.outcome === 'upstream_timeout');
    expect(timedOut.length).toBeGreaterThan(0);
    expect(timedOut.every((r) => r.servers[0] === 's1' && r.status === 504 && r.endMs >= 1050)).toBe(true);
    // ~75 requests queued during the 500 ms hang take ~150 ms to serve: the tail waits past 50 ms.
    expect(Math.max(...timedOut.map((r) => r.endMs))).toBeGreaterThan(1550);
    expect(recorder.requests.filter((r) => r.startMs > 1800).every((r) => r.outcome === 'ok')).toBe(true);
    expect(recorder.requests.filter((r) => r.outcome !== 'ok' && r.outcome !== 'upstream_timeout')).toEqual([]);
    expect(sim.server('s1')!.queued).toBe(0);
  });

  it('slow: service on s1 takes factor × longer while it lasts', () => {
    const { recorder } = simulate(twoServers({
      balancer: { policy: 'round-robin' },
      faults: [{ atMs: 1000, server: 's1', kind: 'slow', factor: 3, durationMs: 1000 }],
    }));
    const s1Slow = recorder.requests.filter((r) => r.servers[0] === 's1' && r.startMs > 1100 && r.startMs < 1900);
    const s2Then = recorder.requests.filter((r) => r.servers[0] === 's2' && r.startMs > 1100 && r.startMs < 1900);
    const s1After = recorder.requests.filter((r) => r.servers[0] === 's1' && r.startMs > 2100);
    expect(Math.min(...s1Slow.map((r) => r.endMs - r.startMs))).toBeGreaterThanOrEqual(6 - 1e-9);
    expect(Math.min(...s2Then.map((r) => r.endMs - r.startMs))).toBeCloseTo(2, 6);
    expect(Math.min(...s1After.map((r) => r.endMs - r.startMs))).toBeCloseTo(2, 6);
  });

  it('errors: s1 answers 503 with probability p; with no retries the client sees them as errors', () => {
    const { recorder } = simulate(twoServers({
      faults: [{ atMs: 1000, server: 's1', kind: 'errors', probability: 0.5, durationMs: 1000 }],
    }));
    const errors = recorder.requests.filter((r) => r.outcome === 'error');
    const s1InWindow = recorder.requests.filter((r) => r.servers[0] === 's1' && r.startMs >= 1000 && r.startMs < 2000);
    expect(errors.every((r) => r.status === 503 && r.servers[0] === 's1' && r.startMs >= 1000 && r.startMs < 2000)).toBe(true);
    // Binomial(n, 0.5): within 4 standard deviations.
    const n = s1InWindow.length;
    expect(Math.abs(errors.length - n / 2)).toBeLessThan(4 * Math.sqrt(n / 4));
  });

  it('reset: connections reset with probability p; retries send them elsewhere', () => {
    const { recorder } = simulate(twoServers({
      retry: { maxAttempts: 2 },
      faults: [{ atMs: 0, server: 's1', kind: 'reset', probability: 0.2 }],
    }));
    expect(recorder.requests.every((r) => r.outcome === 'ok')).toBe(true);
    const resetThenOk = recorder.requests.filter((r) => r.servers.join('|') === 's1|s2').length;
    const s1First = recorder.requests.filter((r) => r.servers[0] === 's1').length;
    expect(Math.abs(resetThenOk - 0.2 * s1First)).toBeLessThan(4 * Math.sqrt(s1First * 0.2 * 0.8));
  });
});

describe('membership changes', () => {
  it('remove drains: no new attempts on s2 after removal, its in-flight ones finish, then it leaves', () => {
    const { recorder, sim } = simulate(twoServers({ changes: [{ atMs: 1500, remove: 's2' }] }));
    expect(recorder.requests.every((r) => r.outcome === 'ok')).toBe(true);
    expect(recorder.starts.filter(([id, at]) => id === 's2' && at > 1500)).toEqual([]);
    const kinds = sim.balancerEvents.filter((e) => 'id' in e && e.id === 's2').map((e) => e.kind);
    expect(kinds).toEqual(['draining', 'removed']);
    expect(sim.balancer.has('s2')).toBe(false);
  });

  it('add: a new server gets traffic from its arrival on, ramped by slow start', () => {
    const { recorder } = simulate(twoServers({
      balancer: { policy: 'weighted-round-robin', slowStart: { windowMs: 1000 } },
      changes: [{ atMs: 1000, add: 's3' }],
    }));
    const s3 = recorder.starts.filter(([id]) => id === 's3').map(([, at]) => at);
    expect(Math.min(...s3)).toBeGreaterThanOrEqual(1000);
    const firstHalf = s3.filter((at) => at < 1500).length;
    const steady = s3.filter((at) => at >= 2000 && at < 2500).length;
    expect(firstHalf).toBeLessThan(steady);
  });
});

describe('panic (Envoy: below 50 % healthy, balance over all hosts)', () => {
  const twoOfThreeDown = (panicThresholdPercent: number) => configs({
    name: 'panic', seed: 4,
    servers: { count: 3, template: { serviceTimeMs: { dist: 'constant', value: 1 } } },
    workload: { durationMs: 3000, arrival: { process: 'constant', ratePerSec: 300 } },
    balancer: { policy: 'round-robin', panicThresholdPercent },
    health: { active: { intervalMs: 100, timeoutMs: 50, fall: 1 } },
    faults: [{ atMs: 1000, server: 's2', kind: 'crash' }, { atMs: 1000, server: 's3', kind: 'crash' }],
  })[0];

  it('with 1 of 3 healthy the pool panics and keeps sending to the dead servers', () => {
    const { recorder, sim } = simulate(twoOfThreeDown(50));
    expect(sim.balancerEvents.some((e) => e.kind === 'panic' && e.active)).toBe(true);
    const late = recorder.requests.filter((r) => r.startMs > 1500);
    const failed = late.filter((r) => r.outcome === 'connect_failed');
    expect(failed.length / late.length).toBeCloseTo(2 / 3, 1);
  });

  it('with panic off, only the healthy server gets traffic once the checks notice', () => {
    const { recorder, sim } = simulate(twoOfThreeDown(0));
    expect(sim.balancerEvents.some((e) => e.kind === 'panic')).toBe(false);
    const late = recorder.requests.filter((r) => r.startMs > 1200);
    expect(late.every((r) => r.outcome === 'ok' && r.servers[0] === 's1')).toBe(true);
  });
});
