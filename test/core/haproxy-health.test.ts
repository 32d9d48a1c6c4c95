// HAProxy's check counter (check.c), as the engines' HAProxy mode uses it: servers start up
// at the `rise` edge (one failed check takes them down: haproxy-facts §4), an up server
// needs `fall` failures, a down one `rise` passes from zero.
import { describe, expect, it } from 'vitest';
import { ActiveHealthSchema, type ActiveHealthConfig } from '../../core/config.ts';
import { type ObserveConfig, checkIntervalMs, initialHealth, recordObserved, recordProbe } from '../../core/health/active.ts';
import type { AttemptOutcome } from '../../core/types.ts';
import { haproxySlowStartFactor, slowStartFactor } from '../../core/slow-start.ts';

const cfg: ActiveHealthConfig = { ...ActiveHealthSchema.parse({ intervalMs: 1000, timeoutMs: 100, rise: 2, fall: 3 }), counter: 'haproxy' };

function run(results: boolean[]): string[] {
  const state = initialHealth(cfg);
  return results.map((ok) => recordProbe(state, cfg, ok) ?? '-');
}

describe('HAProxy check counter', () => {
  it('starts up, and the first failed check takes the server down', () => {
    expect(initialHealth(cfg).status).toBe('healthy');
    expect(run([false])).toEqual(['unhealthy']);
  });

  it('once up by passes, it takes `fall` failures to go down and `rise` passes to come back', () => {
    expect(run([true, false, false, false, true, true])).toEqual(['-', '-', '-', 'unhealthy', '-', 'healthy']);
  });

  it('a pass in between resets the way up to the top (rise + fall − 1)', () => {
    expect(run([true, false, false, true, false, false, false])).toEqual(['-', '-', '-', '-', '-', '-', 'unhealthy']);
  });
});

describe('observe layer7 (check.c __health_adjust)', () => {
  const e500: AttemptOutcome = { kind: 'response', status: 500 };
  const ok: AttemptOutcome = { kind: 'response', status: 200 };
  function observed(onError: ObserveConfig['onError'], outcomes: AttemptOutcome[], passesFirst = 1): string[] {
    const state = initialHealth(cfg);
    for (let i = 0; i < passesFirst; i++) recordProbe(state, cfg, true); // fully up: rise + fall − 1
    return outcomes.map((o) => recordObserved(state, cfg, { errorLimit: 3, onError }, o) ?? '-');
  }

  it('mark-down: down on the 3rd consecutive error, and a good answer in between starts the count again (haproxy-facts §5)', () => {
    expect(observed('mark-down', [e500, e500, e500])).toEqual(['-', '-', 'unhealthy']);
    expect(observed('mark-down', [e500, e500, ok, e500, e500, e500])).toEqual(['-', '-', '-', '-', '-', 'unhealthy']);
  });

  it('501 and 505 are not errors; refused connections, resets and timeouts are', () => {
    expect(observed('mark-down', [{ kind: 'response', status: 501 }, { kind: 'response', status: 505 }, e500])).toEqual(['-', '-', '-']);
    expect(observed('mark-down', [{ kind: 'connect-error' }, { kind: 'reset' }, { kind: 'timeout' }])).toEqual(['-', '-', 'unhealthy']);
  });

  it('fail-check counts one failed check per error run: an up server (fall 3) goes down on the third run', () => {
    expect(observed('fail-check', Array(9).fill(e500))).toEqual(['-', '-', '-', '-', '-', '-', '-', '-', 'unhealthy']);
  });

  it('sudden-death leaves the server one check from down, so the next run takes it down; fastinter never does', () => {
    expect(observed('sudden-death', Array(6).fill(e500))).toEqual(['-', '-', '-', '-', '-', 'unhealthy']);
    expect(observed('fastinter', Array(9).fill(e500))).toEqual(Array(9).fill('-'));
  });
});

describe('check intervals (server.c srv_getinter)', () => {
  const timed: ActiveHealthConfig = { ...cfg, fastinterMs: 100, downinterMs: 5000 };

  it('fastinter at the start and in transition, inter when fully up, downinter when down at 0', () => {
    const state = initialHealth(timed);
    expect(checkIntervalMs(timed, state)).toBe(100);
    recordProbe(state, timed, true);
    expect(checkIntervalMs(timed, state)).toBe(1000);
    recordProbe(state, timed, false);
    expect(checkIntervalMs(timed, state)).toBe(100);
    recordProbe(state, timed, false);
    recordProbe(state, timed, false);
    expect(state.status).toBe('unhealthy');
    expect(checkIntervalMs(timed, state)).toBe(5000);
  });

  it('without fastinter/downinter every check waits inter; Fulcrum\'s own counting always does', () => {
    expect(checkIntervalMs(cfg, initialHealth(cfg))).toBe(1000);
    const fulcrum = ActiveHealthSchema.parse({ intervalMs: 700, timeoutMs: 100 });
    expect(checkIntervalMs(fulcrum, initialHealth(fulcrum))).toBe(700);
  });
});

describe('slow start in HAProxy steps (server.c server_recalc_eweight)', () => {
  it('1/16 at once, one step a second over the whole-second window, full at the end', () => {
    // slowstart 2500 ms is kept as 3 s: w = (16 × s + 3) / 3 → 1, 6, 11, then full.
    expect([0, 999, 1000, 2000, 2999, 3000].map((t) => haproxySlowStartFactor(2500, t) * 16)).toEqual([1, 1, 6, 11, 11, 16]);
    expect(slowStartFactor({ windowMs: 2500, aggression: 1, minWeightPercent: 6.25, steps: 'haproxy' }, 1500)).toBe(6 / 16);
  });
});
