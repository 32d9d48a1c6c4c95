// The experiment → NGINX translation: every generic mapping, every problem line, the
// `proxies.nginx` block (NGINX's own vocabulary) winning over the generic sections, and what
// the simulator runs for it (`--proxy nginx`).
import { describe, expect, it } from 'vitest';
import { problemsOf, runConfig, schemaProblems, settingsOf } from './helpers.ts';
import { nginxSettings } from '../../experiments/proxies/nginx.ts';
import { nginxModelRun } from '../../experiments/proxies/nginx-model.ts';
import { PROXY_MODELS } from '../../experiments/proxies/models.ts';
import type { NginxSettings } from '../../experiments/proxies/nginx-settings.ts';

const config = runConfig;
const settings = (extra: Record<string, unknown>): NginxSettings => settingsOf(nginxSettings(config(extra)));
const problems = (extra: Record<string, unknown>): string[] => problemsOf(nginxSettings(config(extra)));

describe('generic → NGINX', () => {
  it('an experiment without routing sections means NGINX\'s defaults', () => {
    expect(settings({})).toEqual({
      balance: { method: 'round-robin' }, nextUpstream: ['error', 'timeout'], nextUpstreamTries: 0, nextUpstreamTimeoutMs: 0,
      maxFails: 1, failTimeoutMs: 10_000, timeouts: { connectMs: 1_000, readMs: 30_000, sendMs: 30_000 }, workerProcesses: 1, zone: true,
    });
  });

  it.each([
    ['round-robin', {}, { method: 'round-robin' }],
    ['weighted-round-robin', {}, { method: 'round-robin' }],
    ['least-connections', {}, { method: 'least_conn' }],
    ['ip-hash', {}, { method: 'ip_hash' }],
    ['ring-hash', {}, { method: 'hash', consistent: true }],
    ['random', {}, { method: 'random', two: false }],
    ['p2c', {}, { method: 'random', two: true }],
    ['nginx-hash', { consistent: true }, { method: 'hash', consistent: true }],
    ['nginx-random', { two: true }, { method: 'random', two: true }],
  ])('balancer.policy %s %j → %j', (policy, options, expected) => {
    expect(settings({ balancer: { policy, ...options } }).balance).toEqual(expected);
  });

  it('what NGINX cannot balance by is a problem naming the nearest method', () => {
    expect(problems({ balancer: { policy: 'peak-ewma' } })).toEqual([expect.stringMatching(/^balancer\.policy: "peak-ewma" has no NGINX open source equivalent; nearest: least_conn/)]);
    expect(problems({ balancer: { policy: 'maglev' } })).toEqual([expect.stringMatching(/^balancer\.policy: "maglev" .*nearest: hash \$remote_addr consistent \(set proxies\.nginx\.balance\)$/)]);
    expect(problems({ balancer: { policy: 'p2c', choices: 3 } })).toEqual([expect.stringMatching(/^balancer\.choices: 3 has no NGINX equivalent/)]);
    expect(problems({ balancer: { policy: 'haproxy-leastconn' } })).toEqual([expect.stringMatching(/is a model of HAProxy/)]);
    expect(problems({ balancer: { policy: 'ring-hash', vnodes: 100 } })).toEqual([expect.stringMatching(/^balancer\.vnodes: 100 .*160 points per weight/)]);
  });

  it('health.active is refused: NGINX open source has no active checks', () => {
    expect(problems({ health: { active: { intervalMs: 1000, timeoutMs: 500 } } })).toEqual([
      expect.stringMatching(/^health\.active: .* NGINX open source has no active health checks; remove health\.active or use proxies\.nginx\.maxFails$/),
    ]);
    // The way out the line names: the block's maxFails stands in (passive health only).
    expect(settings({ health: { active: { intervalMs: 1000, timeoutMs: 500 } }, proxies: { nginx: { maxFails: 2 } } })).toMatchObject({ maxFails: 2, failTimeoutMs: 10_000 });
  });

  it('health.outlier → max_fails and fail_timeout; what NGINX does not count is a problem', () => {
    expect(settings({ health: { outlier: { consecutiveFailures: 3, baseEjectionMs: 5_000 } } })).toMatchObject({ maxFails: 3, failTimeoutMs: 5_000 });
    expect(problems({ health: { outlier: { consecutiveFailures: 3, baseEjectionMs: 1_500, maxEjectionPercent: 100 } } })).toEqual([
      expect.stringMatching(/^health\.outlier\.maxEjectionPercent: 100 has no NGINX equivalent/),
      expect.stringMatching(/^health\.outlier\.baseEjectionMs: 1500 .*whole seconds/),
    ]);
  });

  it('retry → proxy_next_upstream: error, timeout with a per-try timeout, http_<status>; tries = maxAttempts', () => {
    expect(settings({ retry: { maxAttempts: 2 }, timeouts: { perTryMs: 500 } })).toMatchObject({
      nextUpstream: ['error', 'timeout', 'http_502', 'http_503', 'http_504'], nextUpstreamTries: 2, timeouts: { readMs: 500 },
    });
    expect(problems({ retry: { retryOn: [502, 501], backoffBaseMs: 0, budget: {} } })).toEqual([
      expect.stringMatching(/^retry\.retryOn: 501 has no proxy_next_upstream condition/),
      expect.stringMatching(/^retry\.budget: .* \(no retry budget\)/),
      expect.stringMatching(/^retry\.backoffBaseMs: \[0,250\] .*at once/),
    ]);
  });

  it('a deadline beside a per-try timeout → proxy_next_upstream_timeout (no new try after it)', () => {
    expect(settings({ timeouts: { perTryMs: 1000, requestMs: 3000, connectMs: 500 } })).toMatchObject({
      nextUpstreamTimeoutMs: 3000, timeouts: { connectMs: 500, readMs: 1000, sendMs: 1000 },
    });
  });

  it('slow start and other panic thresholds are problems; weights must be integers', () => {
    expect(problems({ balancer: { policy: 'weighted-round-robin', slowStart: { windowMs: 1000 } } })).toEqual([expect.stringMatching(/^balancer\.slowStart: .*NGINX Plus only/)]);
    expect(problems({ balancer: { policy: 'round-robin', panicThresholdPercent: 30 } })).toEqual([expect.stringMatching(/^balancer\.panicThresholdPercent: 30/)]);
    expect(problems({ servers: { count: 2, template: { serviceTimeMs: { dist: 'constant', value: 5 }, weight: 1.5 } } })).toEqual([
      expect.stringMatching(/^servers\.template\.weight: 1\.5 has no NGINX equivalent: weight= is a positive integer$/),
    ]);
  });
});

describe('the proxies.nginx block', () => {
  it('wins over the generic sections and silences what it replaces', () => {
    expect(settings({
      retry: { budget: {} }, health: { outlier: { consecutiveFailures: 2, jitterMs: 5 } },
      proxies: { nginx: { balance: 'hash $remote_addr consistent', nextUpstream: ['error', 'http_503', 'non_idempotent'], nextUpstreamTries: 2, maxFails: 3, failTimeoutMs: 30_000, workerProcesses: 2, zone: true } },
    })).toMatchObject({
      balance: { method: 'hash', consistent: true }, nextUpstream: ['error', 'http_503', 'non_idempotent'], nextUpstreamTries: 2,
      maxFails: 3, failTimeoutMs: 30_000, workerProcesses: 2, zone: true,
    });
    expect(settings({ proxies: { nginx: { nextUpstream: ['off'] } } }).nextUpstream).toEqual([]);
    expect(settings({ proxies: { nginx: { balance: 'random two least_conn' } } }).balance).toEqual({ method: 'random', two: true });
  });

  it('bad values name their path and the allowed values', () => {
    expect(schemaProblems({ proxies: { nginx: { balance: 'iphash' } } })).toEqual([expect.stringMatching(/^proxies\.nginx\.balance: got "iphash"; allowed: "round-robin", "least_conn", "ip_hash"/)]);
    expect(schemaProblems({ proxies: { nginx: { failTimeoutMs: 1500 } } })).toEqual([expect.stringMatching(/^proxies\.nginx\.failTimeoutMs: got 1500; must be whole seconds/)]);
    expect(schemaProblems({ proxies: { nginx: { nextUpstream: ['http_501'] } } })).toEqual([expect.stringMatching(/^proxies\.nginx\.nextUpstream\.0: got "http_501"; allowed: .*"http_500"/)]);
    expect(schemaProblems({ proxies: { nginx: { zones: true } } })).toEqual([expect.stringMatching(/^proxies\.nginx: unknown field "zones"/)]);
  });
});

describe('the simulated run for --proxy nginx', () => {
  it('the method and passive health become an nginx-* policy; the rules go to the Router; no deadline, no active checks', () => {
    const cfg = config({ balancer: { policy: 'ring-hash' }, timeouts: { perTryMs: 700, connectMs: 300 } });
    const run = nginxModelRun(cfg, nginxSettings(cfg).settings!);
    expect(run.config.balancer).toMatchObject({ policy: 'nginx-hash', consistent: true, maxFails: 1, failTimeoutMs: 10_000, serverName: 'unix:{id}.sock', panicThresholdPercent: 0 });
    expect(run.config.timeouts).toEqual({ requestMs: 1e9, perTryMs: 700, connectMs: 300 });
    expect(run.config.retry).toBeUndefined();
    expect(run.rules).toEqual({ nextUpstream: ['error', 'timeout'], tries: 0, timeoutMs: 0 });
  });

  it('a change (a reload) switches traffic 100 ms after the signal: the master sleeps 100 ms before old workers quit', () => {
    const cfg = config({ changes: [{ atMs: 6000, add: 's4' }, { atMs: 7000, server: 's1', weight: 3 }] });
    expect(nginxModelRun(cfg, nginxSettings(cfg).settings!).config.changes.map((c) => c.atMs)).toEqual([6100, 7100]);
  });

  it('workers without zone are independent balancers, each client on one of them; with zone one shared state', () => {
    const run = (nginx: Record<string, unknown>) => {
      const cfg = config({ proxies: { nginx } });
      return nginxModelRun(cfg, nginxSettings(cfg).settings!).config.balancers;
    };
    expect(run({ workerProcesses: 4, zone: false })).toEqual({ count: 4, reach: 'client-hash', share: 'nothing' });
    expect(run({ workerProcesses: 4 })).toMatchObject({ count: 1 });
    expect(PROXY_MODELS.nginx!.problems(config({ balancers: { count: 2 }, proxies: { nginx: { workerProcesses: 2, zone: false } } }))).toEqual([
      expect.stringMatching(/^balancers\.count: 2 beside proxies\.nginx\.workerProcesses 2 without zone/),
    ]);
  });
});
