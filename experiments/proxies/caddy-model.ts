// What the simulator runs for `--proxy caddy`: the experiment with its routing sections
// replaced by Caddy 2.6's models, built from CaddySettings alone (the same settings the
// config generator turns into Caddy's config). lb_policy → a caddy-* policy; active checks →
// health flipped by one check either way, upstreams start healthy and are checked at once
// (healthchecks.go activeHealthChecker, doActiveHealthCheck); passive health → failures
// counted for fail_duration (core/caddy-passive.ts); retries → the Router's Caddy mode
// (core/caddy-retry.ts); every membership change is a config load that starts health afresh.
import { BalancerSchema, type BalancerConfig, type HealthConfig } from '../../core/config.ts';
import type { CaddyRetryRules } from '../../core/caddy-retry.ts';
import type { RunConfig } from '../schema.ts';
import type { CaddySettings } from './caddy-settings.ts';

export interface CaddyModelRun {
  config: RunConfig;
  rules: CaddyRetryRules;
}

/** reverse_proxy has no deadline over all tries: the Router's is set beyond any run. */
const NO_DEADLINE_MS = 1e9;

export function caddyModelRun(cfg: RunConfig, s: CaddySettings): CaddyModelRun {
  const health: HealthConfig = { reloadResetsHealth: true };
  if (s.active) {
    health.active = {
      intervalMs: s.active.intervalMs, timeoutMs: Math.min(s.active.timeoutMs, s.active.intervalMs),
      rise: 1, fall: 1, jitterMs: 0, path: s.active.uri, requireFirstPass: false,
    };
  }
  if (s.passive) health.caddyPassive = { ...s.passive };
  return {
    config: {
      ...cfg,
      health: health.active || health.caddyPassive ? health : undefined,
      balancer: balancerOf(s),
      retry: undefined,
      timeouts: {
        requestMs: NO_DEADLINE_MS, connectMs: s.timeouts.dialMs,
        ...(s.timeouts.responseHeaderMs !== undefined ? { perTryMs: s.timeouts.responseHeaderMs } : {}),
      },
    },
    rules: { retries: s.retries ?? 0, tryDurationMs: s.tryDurationMs, tryIntervalMs: s.tryIntervalMs },
  };
}

function balancerOf(s: CaddySettings): BalancerConfig {
  const common = { panicThresholdPercent: 0 };
  const sel = s.selection;
  switch (sel.policy) {
    case 'round_robin': return BalancerSchema.parse({ policy: 'caddy-round-robin', ...common });
    case 'least_conn': return BalancerSchema.parse({ policy: 'caddy-least-conn', ...common });
    case 'random': return BalancerSchema.parse({ policy: 'caddy-random', ...common });
    case 'first': return BalancerSchema.parse({ policy: 'caddy-first', ...common });
    case 'ip_hash': return BalancerSchema.parse({ policy: 'caddy-ip-hash', ...common });
    case 'random_choose': return BalancerSchema.parse({ policy: 'caddy-random-choose', ...common, choose: sel.choose });
  }
}
