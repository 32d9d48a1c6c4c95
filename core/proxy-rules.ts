// Request rules of a proxy the simulator models, beside Fulcrum's own `retry` section:
// each proxy's model (experiments/proxies/<proxy>-model.ts) fills its own field and the
// engines turn them into the Router's rules with requestRulesOf. Empty: Fulcrum's rules.
import type { RetryConfig } from './config.ts';
import type { Rng } from './types.ts';
import type { Balancer } from './balancer.ts';
import type { RequestRules } from './request-rules.ts';
import { FulcrumRules } from './retry.ts';
import { type HaproxyRetryRules, HaproxyRules } from './haproxy-retry.ts';
import { type CaddyRetryRules, CaddyRules } from './caddy-retry.ts';
import { type NginxRetryRules, NginxRules } from './nginx-retry.ts';

export interface ProxyRules {
  /** HAProxy 2.6 (`--proxy haproxy`): retries, redispatch, the backend queue. */
  haproxy?: HaproxyRetryRules;
  /** Caddy 2.6 (`--proxy caddy`): lb_retries, lb_try_duration, lb_try_interval. */
  caddy?: CaddyRetryRules;
  /** NGINX 1.22 (`--proxy nginx`): proxy_next_upstream, its tries and timeout. */
  nginx?: NginxRetryRules;
}

/** The Router's rules for a run: the modelled proxy's, or Fulcrum's from `retry` (`rng`: its backoff jitter). */
export function requestRulesOf(rules: ProxyRules, retry: RetryConfig | undefined, balancer: Balancer, rng: Rng): RequestRules {
  if (rules.haproxy) return new HaproxyRules(rules.haproxy, balancer);
  if (rules.caddy) return new CaddyRules(rules.caddy);
  if (rules.nginx) return new NginxRules(rules.nginx, balancer);
  return new FulcrumRules(retry, balancer, rng);
}
