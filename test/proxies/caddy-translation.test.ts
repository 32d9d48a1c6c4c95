// The experiment → Caddy 2.6 translation: the generic mappings, the problem lines (one per
// JSON path, with the way out), and the `proxies.caddy` block winning over the generic sections.
import { describe, expect, it } from 'vitest';
import { problemsOf, runConfig, schemaProblems, settingsOf } from './helpers.ts';
import { caddySettings, parseLbPolicy } from '../../experiments/proxies/caddy.ts';
import { caddyDialPlaceholder } from '../../experiments/proxies/caddy-settings.ts';
import { caddyModelRun } from '../../experiments/proxies/caddy-model.ts';
import type { HealthConfig } from '../../core/config.ts';

const settings = (extra: Record<string, unknown>) => settingsOf(caddySettings(runConfig(extra)));
const problems = (extra: Record<string, unknown>) => problemsOf(caddySettings(runConfig(extra)));

describe('generic → Caddy: lb_policy', () => {
  it.each([
    ['round-robin', { policy: 'round_robin' }],
    ['random', { policy: 'random' }],
    ['least-connections', { policy: 'least_conn' }],
    ['ip-hash', { policy: 'ip_hash' }],
    ['rendezvous', { policy: 'ip_hash' }],
  ])('%s → %j', (policy, selection) => {
    expect(settings({ balancer: { policy } }).selection).toEqual(selection);
  });

  it('p2c → random_choose <choices>', () => {
    expect(settings({ balancer: { policy: 'p2c', choices: 3 } }).selection).toEqual({ policy: 'random_choose', choose: 3 });
  });

  it('Caddy\'s defaults: no retries, dial_timeout 3 s, no response_header_timeout, no health', () => {
    expect(settings({})).toEqual({ selection: { policy: 'round_robin' }, retries: 0, tryDurationMs: 0, tryIntervalMs: 0, timeouts: { dialMs: 3_000 } });
  });

  it('policies Caddy 2.6 lacks are one line each naming the nearest and the way out', () => {
    expect(problems({ balancer: { policy: 'peak-ewma' } })).toEqual([
      'balancer.policy: "peak-ewma" has no Caddy 2.6 equivalent; nearest: least_conn (set proxies.caddy.lbPolicy)',
    ]);
    expect(problems({ balancer: { policy: 'maglev' } })[0]).toContain('nearest: ip_hash (rendezvous)');
    expect(settings({ balancer: { policy: 'maglev' }, proxies: { caddy: { lbPolicy: 'ip_hash' } } }).selection).toEqual({ policy: 'ip_hash' });
  });

  it('weights: Caddy 2.6.2 upstreams have none — every weight other than 1 is refused, with its path', () => {
    const p = problems({
      servers: { count: 3, template: { serviceTimeMs: { dist: 'constant', value: 5 } }, overrides: { s2: { weight: 3 } } },
      changes: [{ atMs: 5, server: 's1', weight: 2 }],
    });
    expect(p).toEqual([
      'servers.overrides.s2.weight: 3 has no Caddy 2.6 equivalent: its upstreams have no weight (weighted_round_robin came in 2.8); drop the weight',
      'changes.0.weight: 2 has no Caddy 2.6 equivalent: its upstreams have no weight (weighted_round_robin came in 2.8); drop the weight',
    ]);
  });
});

describe('the proxies.caddy block', () => {
  it('parses lb_policy as Caddy does: random_choose defaults to 2 and needs at least 2', () => {
    expect(parseLbPolicy('random_choose')).toEqual({ policy: 'random_choose', choose: 2 });
    expect(parseLbPolicy('random_choose  4')).toEqual({ policy: 'random_choose', choose: 4 });
    expect(parseLbPolicy('random_choose 1')).toBeUndefined();
    expect(parseLbPolicy('first')).toEqual({ policy: 'first' });
  });

  it('client_ip_hash and weighted_round_robin are refused with the version that added them', () => {
    expect(schemaProblems({ proxies: { caddy: { lbPolicy: 'client_ip_hash' } } })).toEqual([
      'proxies.caddy.lbPolicy: got "client_ip_hash"; Caddy 2.6.2 has no client_ip_hash (added in 2.7); use "ip_hash" (the connection\'s address, the same here)',
    ]);
    expect(schemaProblems({ proxies: { caddy: { lbPolicy: 'weighted_round_robin 1 2' } } })[0]).toContain('added in 2.8');
    expect(schemaProblems({ proxies: { caddy: { lbPolicy: 'hash' } } })[0]).toContain('allowed: "round_robin", "least_conn", "first"');
  });

  it('lb_try_duration without an interval waits 250 ms (Provision); lb_retries alone does not wait', () => {
    expect(settings({ proxies: { caddy: { lbTryDurationMs: 2_000 } } })).toMatchObject({ tryDurationMs: 2_000, tryIntervalMs: 250, retries: 0 });
    expect(settings({ proxies: { caddy: { lbRetries: 2 } } })).toMatchObject({ tryDurationMs: 0, tryIntervalMs: 0, retries: 2 });
    expect(settings({ proxies: { caddy: { lbTryDurationMs: 2_000, lbTryIntervalMs: 0 } } }).tryIntervalMs).toBe(250); // 0 means "unset" to Provision
    expect(settings({ proxies: { caddy: { lbRetries: 2, lbTryIntervalMs: 40 } } }).tryIntervalMs).toBe(40);
  });

  it('the block silences the generic retry section it replaces', () => {
    const retry = { maxAttempts: 3, budget: { ratio: 0.2, minConcurrent: 3 } };
    expect(problems({ retry })).toEqual([
      'retry.budget: {"ratio":0.2,"minConcurrent":3} has no Caddy equivalent (no retry budget); set proxies.caddy.lbRetries / lbTryDurationMs to use Caddy\'s own retries',
    ]);
    expect(settings({ retry, proxies: { caddy: { lbRetries: 2 } } }).retries).toBe(2);
    expect(settings({ retry: { maxAttempts: 3 } }).retries).toBe(2);
  });

  it('passive health: fail_duration turns it on, max_fails defaults to 1; without fail_duration max_fails is a problem', () => {
    expect(settings({ proxies: { caddy: { failDurationMs: 10_000, unhealthyStatus: [5] } } }).passive).toEqual({ failDurationMs: 10_000, maxFails: 1, unhealthyStatus: [5] });
    expect(problems({ proxies: { caddy: { maxFails: 3 } } })[0]).toMatch(/^proxies\.caddy\.maxFails: 3 needs fail_duration/);
  });

  it('generic outlier ejection → max_fails within fail_duration, 502/503/504 as unhealthy_status', () => {
    expect(settings({ health: { outlier: { consecutiveFailures: 3, baseEjectionMs: 1_000 } } }).passive).toEqual({ failDurationMs: 1_000, maxFails: 3, unhealthyStatus: [502, 503, 504] });
    expect(problems({ health: { outlier: { consecutiveFailures: 3, baseEjectionMs: 1_000, maxEjectionMs: 5_000 } } })[0]).toMatch(/^health\.outlier\.maxEjectionMs: 5000 has no Caddy equivalent/);
  });

  it('active checks: at their defaults rise/fall stand for Caddy\'s one-check rule; other values are problems', () => {
    expect(settings({ health: { active: { intervalMs: 250, timeoutMs: 100 } } }).active).toEqual({ uri: '/heartbeat', intervalMs: 250, timeoutMs: 100 });
    expect(problems({ health: { active: { intervalMs: 250, timeoutMs: 100, fall: 2 } } })).toEqual([
      'health.active.fall: 2 has no Caddy equivalent: one failed check marks a Caddy upstream down and one passing check brings it back; set proxies.caddy.health',
    ]);
  });

  it('a deadline over all tries is refused when each try has its own limit, unless the block sets response_header_timeout', () => {
    expect(problems({ timeouts: { requestMs: 3_000, perTryMs: 1_000 } })[0]).toMatch(/^timeouts\.requestMs: 3000 has no Caddy equivalent/);
    expect(settings({ timeouts: { requestMs: 3_000, perTryMs: 1_000 }, proxies: { caddy: { responseHeaderTimeoutMs: 1_000 } } }).timeouts).toEqual({ dialMs: 3_000, responseHeaderMs: 1_000 });
    expect(settings({ timeouts: { requestMs: 10_000 } }).timeouts).toEqual({ dialMs: 3_000, responseHeaderMs: 10_000 });
  });
});

describe('the modelled run', () => {
  it('routes with the caddy-* policy, Caddy\'s rules and no overall deadline', () => {
    const cfg = runConfig({ balancer: { policy: 'ip-hash' }, proxies: { caddy: { lbTryDurationMs: 1_000, failDurationMs: 5_000 } } });
    const run = caddyModelRun(cfg, caddySettings(cfg).settings!);
    expect(run.config.balancer.policy).toBe('caddy-ip-hash');
    expect(run.config.retry).toBeUndefined();
    expect(run.config.timeouts.requestMs).toBe(1e9);
    expect((run.config.health as HealthConfig | undefined)?.caddyPassive).toEqual({ failDurationMs: 5_000, maxFails: 1, unhealthyStatus: [] });
    expect(run.rules).toEqual({ retries: 0, tryDurationMs: 1_000, tryIntervalMs: 250 });
  });

  it('the dial text ip_hash hashes is the live runner\'s placeholder', () => {
    expect(caddyDialPlaceholder('s2')).toBe('{http.vars.s2}');
  });
});
