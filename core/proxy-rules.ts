// Request rules of a proxy the simulator models, beside Fulcrum's own `retry` section:
// each proxy's model (experiments/proxies/<proxy>-model.ts) fills its own field and the
// engines hand them to the Router. Empty: Fulcrum's rules.
import type { HaproxyRetryRules } from './haproxy-retry.ts';
import type { CaddyRetryRules } from './caddy-retry.ts';
import type { NginxRetryRules } from './nginx-retry.ts';

export interface ProxyRules {
  /** HAProxy 2.6 (`--proxy haproxy`): retries, redispatch, the backend queue. */
  haproxy?: HaproxyRetryRules;
  /** Caddy 2.6 (`--proxy caddy`): lb_retries, lb_try_duration, lb_try_interval. */
  caddy?: CaddyRetryRules;
  /** NGINX 1.22 (`--proxy nginx`): proxy_next_upstream, its tries and timeout. */
  nginx?: NginxRetryRules;
}
