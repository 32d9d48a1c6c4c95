// STAND-IN, replaced by engineer caddym's translation when it is merged (take theirs on a
// conflict): the smallest experiment → CaddySettings translation the live side (launcher,
// export, CI) needs until then. Same shape as haproxySettings: the settings, or every
// problem as one line naming the JSON path.
import type { RunConfig } from '../schema.ts';
import type { CaddySelection, CaddySettings } from './caddy-settings.ts';

export type CaddyTranslation = { settings: CaddySettings; problems?: undefined } | { settings?: undefined; problems: string[] };

function selection(cfg: RunConfig, problems: string[]): CaddySelection {
  switch (cfg.balancer.policy) {
    case 'round-robin': return { policy: 'round_robin' };
    case 'least-connections': return { policy: 'least_conn' };
    case 'random': return { policy: 'random' };
    case 'p2c': return { policy: 'random_choose', choose: cfg.balancer.choices };
    case 'ip-hash': return { policy: 'ip_hash' };
    default:
      problems.push(`balancer.policy: "${cfg.balancer.policy}" has no Caddy 2.6 equivalent; allowed: round-robin, least-connections, random, p2c, ip-hash`);
      return { policy: 'round_robin' };
  }
}

/** Caddy's own defaults where the experiment says nothing: no retries (lb_try_duration 0), lb_try_interval 250 ms, no health checks. */
export function caddySettings(cfg: RunConfig): CaddyTranslation {
  const problems: string[] = [];
  const s = selection(cfg, problems);
  const weights = [cfg.servers.template.weight, ...Object.values(cfg.servers.overrides).map((o) => o.weight)];
  if (weights.some((w) => w !== undefined && w !== 1)) problems.push('servers: Caddy 2.6 has no upstream weights (weighted_round_robin came in 2.7); leave weights at 1');
  const t = cfg.timeouts;
  const active = cfg.health?.active;
  const outlier = cfg.health?.outlier;
  if (problems.length) return { problems };
  return {
    settings: {
      selection: s,
      // Retries keep picking until the request's deadline; Caddy waits lb_try_interval between tries.
      tryDurationMs: cfg.retry ? t.requestMs : 0,
      tryIntervalMs: 250,
      ...(active ? { active: { uri: active.path, intervalMs: active.intervalMs, timeoutMs: active.timeoutMs } } : {}),
      ...(outlier ? { passive: { failDurationMs: outlier.baseEjectionMs, maxFails: outlier.consecutiveFailures, unhealthyStatus: outlier.count500 ? [500, 502, 503, 504] : [502, 503, 504] } } : {}),
      timeouts: { dialMs: t.connectMs, ...(t.perTryMs !== undefined ? { responseHeaderMs: t.perTryMs } : {}) },
    },
  };
}
