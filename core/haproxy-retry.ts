// HAProxy 2.6's retry rules, for the Router's HAProxy mode. What this copies (backend.c
// back_handle_st_cer, http_ana.c do_l7_retry, stream.h stream_choose_redispatch, and the
// facts measured on the Debian 2.6.12 binary in the project's haproxy-facts notes):
// - `retries N` counts every retry of a request, connection-level and L7 alike;
// - a failure is retried only if `retry-on` names it: conn-failure (refused, connect
//   timeout), empty-response (closed before any answer), response-timeout (timeout server),
//   or the answer's status (401 403 404 408 425 500 501 502 503 504); all-retryable-errors
//   is conn-failure, empty-response, junk-response, response-timeout, 0rtt-rejected, 500,
//   502, 503 and 504. The method plays no part: HAProxy replays any request that fit its buffer;
// - with `option redispatch`, a retry goes back to the balancer (avoiding the previous
//   server) when that server is down, when the interval says so (every Pth retry, or for
//   P < 0 the retry |P|−1 before the last), and — 2.6.12 carries commit 406efb96d — on every
//   retry when the algorithm is not a hash and more than one server is up;
// - otherwise the retry reconnects to the same server, and after a refused connection it
//   first waits the turn-around time, min(timeout connect, 1 s). L7 retries never wait.
import type { AttemptOutcome } from './types.ts';
import type { Balancer } from './balancer.ts';
import type { Flow } from './router.ts';
import { type FailurePoint, failurePoint } from './retry.ts';
import { type AttemptEnd, type RequestRules, type Verdict, finalVerdict, gatewayError } from './request-rules.ts';

export interface HaproxyRetryRules {
  /** `retries`: retries after the first attempt. */
  retries: number;
  /** `option redispatch <interval>`; undefined: off. */
  redispatch?: number;
  /** `retry-on` keywords and statuses, as written. */
  retryOn: readonly string[];
  /** `timeout connect`: caps the turn-around delay. */
  connectMs: number;
  /** The balance is a hash (`source`): redispatch follows the interval only. */
  hashBalance: boolean;
  /**
   * `timeout queue` (HAProxy's default: timeout connect). Set when servers have a maxconn:
   * a request that finds every server full waits in the backend queue this long, then 503.
   */
  queueTimeoutMs?: number;
  /** Per-server `maxconn`: a server frees a slot for the queue below it. */
  maxconn?: number;
  /**
   * The algorithm is static (static-rr, map-based source): HAProxy refuses `add server`
   * ("Backend must use a dynamic load balancing to support dynamic servers"), so a server
   * added by the experiment never joins. Read by the engines, not by the Router.
   */
  refusesAddServer?: boolean;
}

export type HaproxyRetryAnswer =
  | { retry: false }
  | { retry: true; redispatch: boolean; delayMs: number };

const ALL_RETRYABLE = ['conn-failure', 'empty-response', 'junk-response', 'response-timeout', '0rtt-rejected', '500', '502', '503', '504'];

/** The `retry-on` keywords a failure answers to. */
function keywordOf(failure: FailurePoint): string {
  switch (failure.kind) {
    case 'connect': return 'conn-failure';
    case 'reset': return 'empty-response';
    case 'timeout': return 'response-timeout';
    case 'status': return String(failure.status);
  }
}

export function retriesOn(rules: HaproxyRetryRules, failure: FailurePoint): boolean {
  const keyword = keywordOf(failure);
  if (rules.retryOn.includes('none')) return false;
  return rules.retryOn.includes(keyword) || (rules.retryOn.includes('all-retryable-errors') && ALL_RETRYABLE.includes(keyword));
}

export interface HaproxyRetryQuestion {
  failure: FailurePoint;
  /** Retries already made for this request (0 after the first attempt failed). */
  retriesDone: number;
  /** Servers the balancer may use now (srv_act). */
  usableServers: number;
  /** The failed server is still up in the balancer's eyes. */
  serverUp: boolean;
}

export function decideHaproxyRetry(rules: HaproxyRetryRules, q: HaproxyRetryQuestion): HaproxyRetryAnswer {
  const retry = q.retriesDone + 1; // conn_retries after the increment
  if (retry > rules.retries || !retriesOn(rules, q.failure)) return { retry: false };
  const redispatch = rules.redispatch !== undefined && (
    !q.serverUp
    || (rules.redispatch > 0 && retry % rules.redispatch === 0)
    || (rules.redispatch < 0 && retry % (rules.retries + 1 + rules.redispatch) === 0)
    || (!rules.hashBalance && q.usableServers > 1));
  const turnAround = q.failure.kind === 'connect' && !redispatch;
  return { retry: true, redispatch, delayMs: turnAround ? Math.min(rules.connectMs, 1_000) : 0 };
}

/** Per request: the server a redispatch avoids (the previous one); undefined: none. */
interface HaproxyFlow { avoid: ReadonlySet<string> | undefined }

/**
 * HAProxy's request rules for the Router: retries as decideHaproxyRetry says, on the same
 * server unless redispatched; the backend queue when every server is at its maxconn; 503
 * when it cannot connect (termination state SC--) or finds no server.
 */
export class HaproxyRules implements RequestRules<HaproxyFlow> {
  constructor(private readonly rules: HaproxyRetryRules, private readonly balancer: Balancer) {}

  requestStarted(): HaproxyFlow { return { avoid: undefined }; }

  exclude(_flow: Flow, state: HaproxyFlow): ReadonlySet<string> | undefined { return state.avoid; }

  noBackend(): Verdict {
    if (this.rules.queueTimeoutMs !== undefined && this.balancer.routableCount() > 0) {
      return { kind: 'queue', timeoutMs: this.rules.queueTimeoutMs }; // all full: wait in the backend queue
    }
    return gatewayError(503, 'no_backend');
  }

  afterAttempt(flow: Flow, state: HaproxyFlow, nowMs: number, outcome: AttemptOutcome, end: AttemptEnd): Verdict {
    const failure = failurePoint(outcome);
    if (!failure) return finalVerdict(outcome, 503);
    const backend = flow.path[flow.path.length - 1];
    const answer = end.responseStarted ? undefined : decideHaproxyRetry(this.rules, {
      failure, retriesDone: flow.attempt, usableServers: this.balancer.routableCount(), serverUp: this.balancer.isRoutable(backend),
    });
    if (!answer?.retry) {
      flow.decisions?.push({ kind: 'no-retry', atMs: nowMs, reason: answer ? 'attempts-exhausted' : 'response-started' });
      return finalVerdict(outcome, 503);
    }
    flow.assigned = answer.redispatch ? undefined : this.balancer.backend(backend);
    state.avoid = answer.redispatch ? new Set([backend]) : undefined;
    return { kind: 'retry', delayMs: answer.delayMs };
  }
}
