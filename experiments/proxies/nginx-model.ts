// What the simulator runs for `--proxy nginx`: the experiment with its routing sections
// replaced by NGINX's models, built from NginxSettings alone (the same settings the config
// generator turns into nginx.conf). The balancing method → an nginx-* policy carrying
// max_fails / fail_timeout (NGINX's passive health lives in its peers); proxy_next_upstream
// → the Router's NGINX rules; no active checks, no overall deadline. A change (add, remove,
// weight) is a reload in NGINX: the nginx-* policies start fresh peers then.
import { BalancerSchema, type BalancerConfig } from '../../core/config.ts';
import type { NginxRetryRules } from '../../core/nginx-retry.ts';
import type { RunConfig } from '../schema.ts';
import { NGINX_SERVER_NAME, type NginxSettings } from './nginx-settings.ts';

export interface NginxModelRun {
  config: RunConfig;
  rules: NginxRetryRules;
}

/** NGINX has no deadline over all tries: the Router's is set beyond any run. */
const NO_DEADLINE_MS = 1e9;

/** What the simulator cannot run yet of `s` (one line each). */
export function nginxModelProblems(s: NginxSettings): string[] {
  if (s.workerProcesses > 1 && !s.zone) {
    return [`proxies.nginx.zone: false with workerProcesses ${s.workerProcesses} means one balancer per worker, which the simulator cannot model yet; set proxies.nginx.zone true (one shared state) or workerProcesses 1`];
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
