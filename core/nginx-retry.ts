// NGINX 1.22's next-upstream rules, for the Router's NGINX mode. What this copies
// (src/http/ngx_http_upstream.c of release-1.22.1):
// - ngx_http_upstream_next: an error (refused, reset, closed early) or a timeout always
//   frees the server as FAILED (403/404 as NEXT, never a failure), then retries only if
//   tries are left, `proxy_next_upstream` names the failure, and `proxy_next_upstream_timeout`
//   has not run out since the request started; otherwise the client gets 502 (error) or 504
//   (timeout). Retries go at once, to a server not yet tried.
// - ngx_http_upstream_test_next: an answer with status 500 502 503 504 403 404 429 is
//   retried under the same conditions when `http_<status>` is named and more than one try
//   is left; if not, the answer goes to the client as it is and the server is NOT failed.
// - A request already sent with POST, LOCK or PATCH is retried only with `non_idempotent`.
// - Tries: as many as servers in the upstream (ngx_http_upstream_tries), capped by
//   `proxy_next_upstream_tries` (ngx_http_upstream_init_request); an upstream of one server
//   never retries (free_round_robin_peer sets tries to 0).
// - No usable server left ("no live upstreams", NGX_BUSY) is 502 at once.
import type { AttemptOutcome } from './types.ts';
import type { Balancer } from './balancer.ts';
import type { Flow } from './router.ts';
import { type RequestRules, type Verdict, gatewayError, respondWith } from './request-rules.ts';

export interface NginxRetryRules {
  /** `proxy_next_upstream` conditions as written (error, timeout, http_502 …, non_idempotent); [] is `off`. */
  nextUpstream: readonly string[];
  /** `proxy_next_upstream_tries` (0: no limit but the servers). */
  tries: number;
  /** `proxy_next_upstream_timeout` in ms (0: no limit). */
  timeoutMs: number;
}

export interface NginxAttemptEnd {
  outcome: AttemptOutcome;
  method: string;
  /** Tries used so far, this one included. */
  triesUsed: number;
  /** Servers in the upstream (peers->number). */
  servers: number;
  /** Since the request reached the upstream (u->peer.start_time). */
  elapsedMs: number;
}

export type NginxVerdict = { serverFailed: boolean } & (
  | { kind: 'next' }
  | { kind: 'respond'; status: number }
  | { kind: 'fail'; status: 502 | 504; error: 'connect_failed' | 'upstream_reset' | 'upstream_timeout' });

/** The statuses test_next looks at (ngx_http_upstream_next_errors). */
const NEXT_STATUSES = new Set([500, 502, 503, 504, 403, 404, 429]);
const NON_IDEMPOTENT = new Set(['POST', 'LOCK', 'PATCH']);

export function decideNginxNext(rules: NginxRetryRules, end: NginxAttemptEnd): NginxVerdict {
  const total = end.servers <= 1 ? 1 : rules.tries > 0 ? Math.min(end.servers, rules.tries) : end.servers;
  const triesLeft = total - end.triesUsed;
  const o = end.outcome;
  const allowed = (condition: string, sent: boolean): boolean =>
    triesLeft > 0 && rules.nextUpstream.includes(condition)
    && (!sent || !NON_IDEMPOTENT.has(end.method) || rules.nextUpstream.includes('non_idempotent'))
    && !(rules.timeoutMs > 0 && end.elapsedMs >= rules.timeoutMs);
  switch (o.kind) {
    case 'response': {
      if (!NEXT_STATUSES.has(o.status) || !allowed(`http_${o.status}`, true)) return { kind: 'respond', status: o.status, serverFailed: false };
      return { kind: 'next', serverFailed: o.status !== 403 && o.status !== 404 };
    }
    case 'connect-error':
      return allowed('error', false) ? { kind: 'next', serverFailed: true } : { kind: 'fail', status: 502, error: 'connect_failed', serverFailed: true };
    case 'reset':
      return allowed('error', true) ? { kind: 'next', serverFailed: true } : { kind: 'fail', status: 502, error: 'upstream_reset', serverFailed: true };
    case 'timeout':
      return allowed('timeout', true) ? { kind: 'next', serverFailed: true } : { kind: 'fail', status: 504, error: 'upstream_timeout', serverFailed: true };
    default:
      return { kind: 'fail', status: 502, error: 'upstream_reset', serverFailed: false }; // the proxy's own refusal: nobody's fault
  }
}

/** Per request: the verdict on the attempt that ended last (decided before the balancer records it). */
interface NginxFlow { verdict: NginxVerdict | undefined }

/**
 * NGINX's request rules for the Router: the next untried server at once, or the answer or
 * gateway error decideNginxNext gives; the balancer counts max_fails by its serverFailed.
 * No live server is 502.
 */
export class NginxRules implements RequestRules<NginxFlow> {
  constructor(private readonly rules: NginxRetryRules, private readonly balancer: Balancer) {}

  requestStarted(): NginxFlow { return { verdict: undefined }; }

  exclude(flow: Flow): ReadonlySet<string> { return flow.tried; }

  noBackend(): Verdict { return gatewayError(502, 'no_backend'); }

  serverFailed(flow: Flow, state: NginxFlow, nowMs: number, outcome: AttemptOutcome): boolean {
    state.verdict = decideNginxNext(this.rules, {
      outcome, method: flow.info.method, triesUsed: flow.attempt + 1, servers: this.balancer.activeCount(), elapsedMs: nowMs - flow.info.nowMs,
    });
    return state.verdict.serverFailed;
  }

  afterAttempt(_flow: Flow, state: NginxFlow): Verdict {
    const verdict = state.verdict!;
    switch (verdict.kind) {
      case 'next': return { kind: 'retry', delayMs: 0 };
      case 'respond': return respondWith(verdict.status);
      case 'fail': return gatewayError(verdict.status, verdict.error);
    }
  }
}
