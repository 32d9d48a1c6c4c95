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
import type { AttemptOutcome } from './types.ts';
import type { Flow } from './router.ts';
import { type AttemptEnd, type RequestRules, type Verdict, finalVerdict } from './request-rules.ts';

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

/** Per request: loop iterations that failed so far, and the error Caddy keeps from them. */
interface CaddyFlow { retries: number; error: CaddyError | undefined }

/** Caddy's request rules for the Router: its proxy loop, where every iteration picks from the whole pool. */
export class CaddyRules implements RequestRules<CaddyFlow> {
  constructor(private readonly rules: CaddyRetryRules) {}

  requestStarted(): CaddyFlow { return { retries: 0, error: undefined }; }

  exclude(): undefined { return undefined; }

  noBackend(flow: Flow, state: CaddyFlow, nowMs: number): Verdict {
    return this.afterError(flow, state, nowMs, state.error ?? 'no-upstream');
  }

  /** An error before any response byte went out is the loop's to retry; anything else goes to the client as it is. */
  afterAttempt(flow: Flow, state: CaddyFlow, nowMs: number, outcome: AttemptOutcome, end: AttemptEnd): Verdict {
    const error = end.responseStarted ? undefined : caddyErrorOf(outcome);
    return error ? this.afterError(flow, state, nowMs, error) : finalVerdict(outcome, 502);
  }

  /** tryAgain after an iteration's error, or the client's status for it. */
  private afterError(flow: Flow, state: CaddyFlow, nowMs: number, error: CaddyError): Verdict {
    const retriesDone = state.retries++;
    state.error = error;
    if (!caddyTriesAgain(this.rules, { error, elapsedMs: nowMs - flow.info.nowMs, retriesDone, method: flow.info.method })) {
      flow.decisions?.push({ kind: 'no-retry', atMs: nowMs, reason: 'attempts-exhausted' });
      return { kind: 'fail', ...caddyFailure(error) };
    }
    return { kind: 'retry', delayMs: this.rules.tryIntervalMs };
  }
}

/** The error an attempt's outcome is to Caddy; undefined for an answer (any status). */
function caddyErrorOf(outcome: AttemptOutcome): CaddyError | undefined {
  switch (outcome.kind) {
    case 'connect-error': return 'dial';
    case 'reset': return 'reset';
    case 'timeout': return 'timeout';
    default: return undefined;
  }
}
