// What an experiment means on Caddy 2.6 (its reverse_proxy handler), in Caddy's own
// vocabulary (the Caddyfile reverse_proxy directive and modules/caddyhttp/reverseproxy at
// tag v2.6.2). The translation (experiment → these settings) lives in caddy.ts; the config
// generator (live/) and the model (core/, sim/) both read only this.
// Caddy 2.6.2 has no weights (weighted_round_robin came in 2.8) and no client_ip_hash (2.7):
// the translation refuses them.
import { CADDY_DIAL_TEMPLATE } from '../../core/policies/caddy-ip-hash.ts';

export type CaddySelection =
  | { policy: 'round_robin' | 'least_conn' | 'first' | 'random' | 'ip_hash' }
  /** `lb_policy random_choose <n>`: the least loaded of n random upstreams (n >= 2). */
  | { policy: 'random_choose'; choose: number };

export interface CaddySettings {
  selection: CaddySelection;
  /** `lb_retries` (absent or 0: none of its own; Caddy's default). */
  retries?: number;
  /** `lb_try_duration` in ms (0: off, Caddy's default) and `lb_try_interval` in ms. */
  tryDurationMs: number;
  tryIntervalMs: number;
  /** Passive health: `fail_duration` (absent: off), `max_fails`, `unhealthy_status` (5 = any 5xx). */
  passive?: { failDurationMs: number; maxFails: number; unhealthyStatus: number[] };
  /** Active health: `health_uri`, `health_interval`, `health_timeout`. */
  active?: { uri: string; intervalMs: number; timeoutMs: number };
  /** The transport's `dial_timeout` (Caddy's default 3 s) and `response_header_timeout` (absent: none). */
  timeouts: { dialMs: number; responseHeaderMs?: number };
}

/**
 * The `dial` text of server `id` that ip_hash hashes (selectionpolicies.go hostByHashing
 * hashes the client IP + Upstream.String(), the dial text as written): the live runner
 * writes this placeholder, set per request by a `vars` handler, so the hash never depends
 * on the replica's port. The model (core/policies/caddy-ip-hash.ts) hashes the same text.
 */
export function caddyDialPlaceholder(id: string): string {
  return CADDY_DIAL_TEMPLATE.replaceAll('<id>', id);
}
