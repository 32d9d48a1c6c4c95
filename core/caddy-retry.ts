// Caddy 2.6's retry rules, for the Router's Caddy mode (modules/caddyhttp/reverseproxy at
// tag v2.6.2: reverseproxy.go ServeHTTP, proxyLoopIteration, LoadBalancing.tryAgain,
// statusError):
// - every loop iteration picks again from the whole pool (no upstream is avoided: the same
//   one may come back), then proxies; an answer with ANY status ends the request (a 5xx is
//   passed on, never retried; passive health may count it, core/caddy-passive.ts);
// - after an error, tryAgain decides: no retries unless `lb_try_duration` or `lb_retries`
//   is set (both 0 by default); stop once `lb_try_duration` has passed since the request
//   began (checked when the error happens) or `lb_retries` iterations were made; a dial
//   error is always retried, any other error (reset, response header timeout, "no upstreams
//   available") only for GET (no `retry_match`); then wait `lb_try_interval` (250 ms when
//   lb_try_duration is set and the interval is not, Provision);
// - no available upstream makes the iteration's error 503 "no upstreams available" unless an
//   earlier iteration failed, whose error is kept;
// - the client gets statusError of the last error: 502, 504 for a timeout (net.Error), and the
//   503 above as it is. A dial timeout is a DialError, not a net.Error: 502.
export interface CaddyRetryRules {
  /** `lb_retries`: loop iterations after the first (0: no limit of its own). */
  retries: number;
  /** `lb_try_duration` in ms (0: off). */
  tryDurationMs: number;
  /** `lb_try_interval` in ms: the wait before the next iteration. */
  tryIntervalMs: number;
}

/** The error an iteration ended with, as Caddy tells them apart. */
export type CaddyError = 'dial' | 'reset' | 'timeout' | 'no-upstream';

export interface CaddyRetryQuestion {
  error: CaddyError;
  /** Since the request began (ServeHTTP's `start`). */
  elapsedMs: number;
  /** Iterations already made before this one (0 after the first). */
  retriesDone: number;
  method: string;
}

/** LoadBalancing.tryAgain, without the wait: true when Caddy tries again after `tryIntervalMs`. */
export function caddyTriesAgain(rules: CaddyRetryRules, q: CaddyRetryQuestion): boolean {
  if (rules.tryDurationMs === 0 && rules.retries === 0) return false;
  if (rules.tryDurationMs > 0 && q.elapsedMs >= rules.tryDurationMs) return false;
  if (rules.retries > 0 && q.retriesDone >= rules.retries) return false;
  return q.error === 'dial' || q.method === 'GET';
}

/** statusError: the client's status for the request's last error. */
export function caddyFailure(error: CaddyError): { status: 502 | 503 | 504; error: 'connect_failed' | 'upstream_reset' | 'upstream_timeout' | 'no_backend' } {
  switch (error) {
    case 'dial': return { status: 502, error: 'connect_failed' };
    case 'reset': return { status: 502, error: 'upstream_reset' };
    case 'timeout': return { status: 504, error: 'upstream_timeout' };
    case 'no-upstream': return { status: 503, error: 'no_backend' };
  }
}
