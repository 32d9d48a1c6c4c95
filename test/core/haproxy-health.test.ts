// HAProxy's check counter (check.c), as the engines' HAProxy mode uses it: servers start up
// at the `rise` edge (one failed check takes them down: haproxy-facts §4), an up server
// needs `fall` failures, a down one `rise` passes from zero.
import { describe, expect, it } from 'vitest';
import { ActiveHealthSchema, type ActiveHealthConfig } from '../../core/config.ts';
import { initialHealth, recordProbe } from '../../core/health/active.ts';

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
