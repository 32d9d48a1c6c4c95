// What the simulator runs for `--proxy nginx`: the experiment with its routing sections
// replaced by NGINX's models, built from NginxSettings alone (the same settings the config
// generator turns into nginx.conf). The balancing method → an nginx-* policy carrying
// max_fails / fail_timeout (NGINX's passive health lives in its peers); proxy_next_upstream
// → the Router's NGINX rules; no active checks, no overall deadline. A change (add, remove,
// weight) is a reload in NGINX: the nginx-* policies start fresh peers then. Workers without
// `zone` are independent balancers (the experiment's `balancers` section).
import { BalancerSchema, type BalancerConfig } from '../../core/config.ts';
import type { NginxRetryRules } from '../../core/nginx-retry.ts';
import type { BalancersConfig } from '../balancers.ts';
import type { RunConfig } from '../schema.ts';
import { NGINX_SERVER_NAME, type NginxSettings } from './nginx-settings.ts';

export interface NginxModelRun {
  config: RunConfig;
  rules: NginxRetryRules;
}

// A change is a reload, and a reload switches traffic about 100 ms after the signal: the master
// starts the new workers, sleeps 100 ms and only then tells the old ones to quit
// (os/unix/ngx_process_cycle.c, ngx_master_process_cycle). The live runner sends the signal
// that much ahead (the launcher's changeLeadMs), so in both engines a change takes effect at
// its own time; the few ms of parsing and forking are not modelled.

/** NGINX has no deadline over all tries: the Router's is set beyond any run. */
const NO_DEADLINE_MS = 1e9;

/**
 * `worker_processes N` without `zone`: N workers, each with its own peers — N independent
 * balancers. A client's connection stays with the worker that accepted it (which one is the
 * kernel's choice), so each client reaches one instance: `client-hash`. With `zone` the
 * workers share one state: one balancer.
 */
function balancersOf(cfg: RunConfig, s: NginxSettings): BalancersConfig {
  if (s.zone || s.workerProcesses === 1) return cfg.balancers;
  return { count: s.workerProcesses, reach: 'client-hash', share: 'nothing' };
}

/** What the simulator cannot run of `s` on `cfg` (one line each). */
export function nginxModelProblems(cfg: RunConfig, s: NginxSettings): string[] {
  if (!s.zone && s.workerProcesses > 1 && cfg.balancers.count > 1) {
    return [`balancers.count: ${cfg.balancers.count} beside proxies.nginx.workerProcesses ${s.workerProcesses} without zone: the simulator models one of them (instances of one NGINX, or a fleet of one-balancer NGINXes); set proxies.nginx.zone true or drop balancers`];
  }
  return [];
}

export function nginxModelRun(cfg: RunConfig, s: NginxSettings): NginxModelRun {
  return {
    config: {
      ...cfg,
      health: undefined,
      retry: undefined,
      balancer: balancerOf(s),
      balancers: balancersOf(cfg, s),
      timeouts: { requestMs: NO_DEADLINE_MS, perTryMs: s.timeouts.readMs, connectMs: s.timeouts.connectMs },
    },
    rules: { nextUpstream: s.nextUpstream, tries: s.nextUpstreamTries, timeoutMs: s.nextUpstreamTimeoutMs },
  };
}

function balancerOf(s: NginxSettings): BalancerConfig {
  const common = { panicThresholdPercent: 0, maxFails: s.maxFails, failTimeoutMs: s.failTimeoutMs };
  const b = s.balance;
  switch (b.method) {
    case 'round-robin': return BalancerSchema.parse({ policy: 'nginx-round-robin', ...common });
    case 'least_conn': return BalancerSchema.parse({ policy: 'nginx-least-conn', ...common });
    case 'ip_hash': return BalancerSchema.parse({ policy: 'nginx-ip-hash', ...common });
    case 'hash': return BalancerSchema.parse({ policy: 'nginx-hash', ...common, consistent: b.consistent, serverName: NGINX_SERVER_NAME });
    case 'random': return BalancerSchema.parse({ policy: 'nginx-random', ...common, two: b.two });
  }
}
