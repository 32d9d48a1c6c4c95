// STAND-IN, replaced by engineer nginxm's translation when it is merged (take theirs on a
// conflict): the smallest experiment → NginxSettings translation the live side (launcher,
// export, CI) needs until then. Same shape as haproxySettings: the settings, or every
// problem as one line naming the JSON path.
import type { RunConfig } from '../schema.ts';
import type { NginxBalance, NginxSettings } from './nginx-settings.ts';

export type NginxTranslation = { settings: NginxSettings; problems?: undefined } | { settings?: undefined; problems: string[] };

function balance(cfg: RunConfig, problems: string[]): NginxBalance {
  switch (cfg.balancer.policy) {
    case 'round-robin':
    case 'weighted-round-robin': return { method: 'round-robin' };
    case 'least-connections': return { method: 'least_conn' };
    case 'ip-hash': return { method: 'ip_hash' };
    case 'ring-hash': return { method: 'hash', consistent: true };
    case 'random': return { method: 'random', two: false };
    case 'p2c': return { method: 'random', two: true };
    default:
      problems.push(`balancer.policy: "${cfg.balancer.policy}" has no NGINX equivalent; allowed: round-robin, weighted-round-robin, least-connections, ip-hash, ring-hash, random, p2c`);
      return { method: 'round-robin' };
  }
}

/** NGINX's own defaults where the experiment says nothing: `proxy_next_upstream error timeout`, max_fails=1 fail_timeout=10s, one worker sharing a zone. */
export function nginxSettings(cfg: RunConfig): NginxTranslation {
  const problems: string[] = [];
  const b = balance(cfg, problems);
  if (cfg.health?.active) problems.push('health.active: NGINX open source has no active health checks; remove health.active');
  const retry = cfg.retry;
  const statuses = (retry?.retryOn ?? []).filter((s) => [500, 502, 503, 504, 403, 404, 429].includes(s)).map((s) => `http_${s}`);
  const t = cfg.timeouts;
  if (problems.length) return { problems };
  return {
    settings: {
      balance: b,
      nextUpstream: ['error', 'timeout', ...(retry ? statuses : [])],
      nextUpstreamTries: retry ? retry.maxAttempts : 0,
      nextUpstreamTimeoutMs: 0,
      maxFails: 1,
      failTimeoutMs: 10_000,
      timeouts: { connectMs: t.connectMs, readMs: t.perTryMs ?? t.requestMs, sendMs: t.perTryMs ?? t.requestMs },
      workerProcesses: 1,
      zone: true,
    },
  };
}
