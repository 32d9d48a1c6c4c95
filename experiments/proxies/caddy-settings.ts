// What an experiment means on Caddy 2.6 (its reverse_proxy handler), in Caddy's own
// vocabulary (the Caddyfile reverse_proxy directive and modules/caddyhttp/reverseproxy).
// The translation (experiment → these settings) lives in caddy.ts; the config generator
// (live/) and the model (core/, sim/) both read only this.

export type CaddySelection =
  | { policy: 'round_robin' | 'least_conn' | 'first' | 'random' | 'ip_hash' | 'client_ip_hash' }
  /** `lb_policy random_choose <n>`: the least loaded of n random upstreams. */
  | { policy: 'random_choose'; choose: number };

export interface CaddySettings {
  selection: CaddySelection;
  /** `lb_try_duration` in ms (0: no retries) and `lb_try_interval` (Caddy's default 250 ms). */
  tryDurationMs: number;
  tryIntervalMs: number;
  /** Passive health: `fail_duration` (absent: off), `max_fails`, `unhealthy_status`. */
  passive?: { failDurationMs: number; maxFails: number; unhealthyStatus: number[] };
  /** Active health: `health_uri`, `health_interval`, `health_timeout`. */
  active?: { uri: string; intervalMs: number; timeoutMs: number };
  /** The transport's `dial_timeout` and `response_header_timeout` (absent: none). */
  timeouts: { dialMs: number; responseHeaderMs?: number };
}
