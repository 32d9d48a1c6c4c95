// The life of one client request, as a small state machine both engines drive: pick a
// backend, report how the attempt ended, and be told whether to answer, retry (after how
// long, on which backend) or fail with which gateway status. The simulator and the live
// proxy own the sockets and the timers; every decision is made here.
import type { AttemptOutcome, AttemptVerdict, Backend, PickTrace, Rng } from './types.ts';
import { isOk } from './types.ts';
import type { RetryConfig, TimeoutsConfig } from './config.ts';
import type { Balancer } from './balancer.ts';
import { type FailurePoint, type RetryRefusal, RetryBudget, decideRetry } from './retry.ts';
import { newTrace } from './balancer.ts';
import { type HaproxyRetryRules, decideHaproxyRetry } from './haproxy-retry.ts';
import { type CaddyError, type CaddyRetryRules, caddyFailure, caddyTriesAgain } from './caddy-retry.ts';
import { type NginxRetryRules, type NginxVerdict, decideNginxNext } from './nginx-retry.ts';

export interface RouterOptions {
  balancer: Balancer;
  retry?: RetryConfig;
  timeouts: TimeoutsConfig;
  /** Random stream for backoff jitter (the balancer has its own). */
  rng: Rng;
  /** Record a decision trace on every flow. */
  trace?: boolean;
  /**
   * HAProxy's retry rules instead of Fulcrum's (`retry` is then ignored): retries stay on
   * the same server unless redispatched, and a redispatch avoids only the previous server.
   */
  haproxy?: HaproxyRetryRules;
  /** Caddy's retry loop instead of Fulcrum's (core/caddy-retry.ts): `retry` is then ignored. */
  caddy?: CaddyRetryRules;
  /** NGINX's next-upstream rules instead of Fulcrum's (`retry` is then ignored); no live server is 502. */
  nginx?: NginxRetryRules;
}

/** Why the proxy itself answered with an error instead of a backend. */
export type GatewayError = 'no_backend' | 'connect_failed' | 'upstream_reset' | 'upstream_timeout' | 'deadline';

/** What the engine must do next for a request. */
export type Step =
  | { kind: 'attempt'; backend: Backend; attempt: number; timeoutMs: number }
  | { kind: 'retry'; delayMs: number }
  /** Pass the backend's answer on (success or a status not worth retrying). */
  | { kind: 'respond'; status: number }
  | { kind: 'fail'; status: 502 | 503 | 504; error: GatewayError }
  /** The client's request broke a limit while being sent (the body size cap): answer 413. */
  | { kind: 'reject'; status: 413; error: 'body_too_large' }
  /**
   * HAProxy mode: every server is at its maxconn. Wait in the backend queue: `dequeue` when a
   * server frees a slot, `queueTimedOut` after `timeoutMs` (timeout queue).
   */
  | { kind: 'queue'; timeoutMs: number };


/** One decision, for the trace. */
export type Decision =
  | { kind: 'pick'; trace: PickTrace }
  | { kind: 'outcome'; atMs: number; backend: string; outcome: AttemptOutcome }
  | { kind: 'retry'; atMs: number; delayMs: number }
  | { kind: 'no-retry'; atMs: number; reason: RetryRefusal }
  | { kind: 'fail'; atMs: number; status: number; error: GatewayError };

export interface RequestInfo {
  method: string;
  /** Client identity for hashing policies. */
  hashKey?: string;
  nowMs: number;
  /** No body, or a body buffered in full: safe to send again. */
  bodyReplayable: boolean;
}

/** One client request in flight. */
export class Flow {
  /** Backends tried so far, in order (the `servers` column: `s2|s1`). */
  readonly path: string[] = [];
  readonly tried = new Set<string>();
  attempt = -1;
  readonly deadlineMs: number;
  readonly decisions: Decision[] | undefined;
  /** The backend of the attempt in progress, and when that attempt started. */
  current: Backend | undefined;
  attemptStartMs = 0;
  /** The current attempt's timer is the request deadline (it came before the per-try timeout). */
  timerIsDeadline = false;
  /**
   * The core's verdict on the attempt that ended last (set by attemptEnded, attemptTimedOut
   * and deadlineExceeded), so engines count it without judging again. One object per flow,
   * updated in place: the simulator ends millions of attempts.
   */
  readonly ended: AttemptVerdict = { ok: false, backendFailure: false };
  /** This flow holds a retry-budget slot for its current attempt. */
  holdsRetrySlot = false;
  /** HAProxy mode: the next attempt reconnects to this backend without a new pick. */
  sameServer: Backend | undefined;
  /** HAProxy mode: the next pick avoids this backend (a redispatch's previous server). */
  avoid: ReadonlySet<string> | undefined;
  /** Caddy mode: loop iterations that failed so far, and the error Caddy keeps from them. */
  caddyRetries = 0;
  caddyError: CaddyError | undefined;
  done = false;

  constructor(readonly info: RequestInfo, requestMs: number, trace: boolean) {
    this.deadlineMs = info.nowMs + requestMs;
    this.decisions = trace ? [] : undefined;
  }
}

const TIMEOUT: AttemptOutcome = { kind: 'timeout' };

export class Router {
  readonly budget: RetryBudget;
  /** Logical requests, attempts and retries since start: metrics both engines report. */
  readonly counts = { requests: 0, attempts: 0, retries: 0, budgetOverflows: 0 };

  constructor(private readonly opts: RouterOptions) {
    this.budget = new RetryBudget(opts.retry?.budget);
  }

  get balancer(): Balancer { return this.opts.balancer; }

  /** A request arrived. Follow with `next`. */
  start(info: RequestInfo): Flow {
    this.counts.requests++;
    this.budget.requestStarted();
    return new Flow(info, this.opts.timeouts.requestMs, this.opts.trace ?? false);
  }

  /** The first attempt, or the next one after a retry delay. */
  next(flow: Flow, nowMs: number): Step {
    const remainingMs = flow.deadlineMs - nowMs;
    if (remainingMs <= 0) return this.fail(flow, nowMs, 504, 'deadline');
    const trace = flow.decisions ? newTrace() : undefined;
    let backend: Backend | undefined;
    const same = flow.sameServer;
    flow.sameServer = undefined;
    if (same && this.opts.balancer.backend(same.id) === same) {
      backend = same; // HAProxy: a retry without redispatch reconnects to the assigned server
    } else {
      const exclude = this.opts.haproxy || this.opts.caddy ? flow.avoid : flow.tried;
      backend = this.opts.balancer.pick({ nowMs, hashKey: flow.info.hashKey, attempt: flow.attempt + 1, exclude, request: flow }, trace);
      if (trace) flow.decisions!.push({ kind: 'pick', trace });
    }
    if (!backend) {
      this.releaseSlot(flow);
      if (this.opts.caddy) return this.afterCaddyError(flow, nowMs, flow.caddyError ?? 'no-upstream');
      const haproxy = this.opts.haproxy;
      if (haproxy?.queueTimeoutMs !== undefined && this.opts.balancer.routableCount() > 0) {
        return { kind: 'queue', timeoutMs: haproxy.queueTimeoutMs }; // all full: the backend queue
      }
      return this.fail(flow, nowMs, this.opts.nginx ? 502 : 503, 'no_backend'); // NGINX: "no live upstreams" is 502
    }
    flow.attempt++;
    flow.current = backend;
    flow.attemptStartMs = nowMs;
    flow.path.push(backend.id);
    flow.tried.add(backend.id);
    this.counts.attempts++;
    if (flow.attempt > 0) this.counts.retries++;
    this.opts.balancer.attemptStarted(backend, nowMs);
    const perTry = this.opts.timeouts.perTryMs ?? Infinity;
    flow.timerIsDeadline = remainingMs <= perTry;
    return { kind: 'attempt', backend, attempt: flow.attempt, timeoutMs: Math.min(perTry, remainingMs) };
  }

  /**
   * The current attempt ended. `retryAfter` is the backend's Retry-After header, if any.
   * `responseStarted` is true when response bytes already went to the client.
   */
  attemptEnded(flow: Flow, nowMs: number, outcome: AttemptOutcome, opts: { retryAfter?: string; responseStarted?: boolean } = {}): Step {
    const backend = flow.current!;
    flow.current = undefined;
    const latencyMs = nowMs - flow.attemptStartMs;
    const nginx = this.opts.nginx && decideNginxNext(this.opts.nginx, {
      outcome, method: flow.info.method, triesUsed: flow.attempt + 1, servers: this.opts.balancer.activeCount(), elapsedMs: nowMs - flow.info.nowMs,
    });
    flow.ended.backendFailure = this.opts.balancer.attemptEnded(backend, nowMs, latencyMs, outcome, nginx ? nginx.serverFailed : undefined);
    flow.ended.ok = isOk(outcome);
    this.releaseSlot(flow);
    flow.decisions?.push({ kind: 'outcome', atMs: nowMs, backend: backend.id, outcome });
    if (nginx) return this.afterNginxAttempt(flow, nowMs, nginx);
    return this.afterAttempt(flow, nowMs, outcome, opts);
  }

  /**
   * The current attempt's timer fired. The Router armed it (`timeoutMs` of the attempt
   * step), so it knows what it stood for: the request deadline (→ 504 deadline, no retry)
   * or the per-try timeout (→ a timeout outcome, maybe retried).
   */
  attemptTimedOut(flow: Flow, nowMs: number): Step {
    return flow.timerIsDeadline ? this.deadlineExceeded(flow, nowMs) : this.attemptEnded(flow, nowMs, TIMEOUT);
  }

  private afterAttempt(flow: Flow, nowMs: number, outcome: AttemptOutcome, opts: { retryAfter?: string; responseStarted?: boolean }): Step {
    if (this.opts.caddy && !opts.responseStarted) {
      const error = caddyErrorOf(outcome);
      if (error) return this.afterCaddyError(flow, nowMs, error);
    }
    const failure = failurePoint(outcome, opts.retryAfter);
    if (failure && this.opts.caddy) return this.failWith(flow, nowMs, failure); // a status passes on; an error after bytes went out is not retried
    if (failure && this.opts.haproxy && !opts.responseStarted) return this.afterHaproxyFailure(flow, nowMs, failure);
    if (!failure) {
      if (outcome.kind === 'response') return this.respond(flow, outcome.status);
      if (outcome.kind === 'local-reject' && outcome.reason === 'body-too-large') {
        this.finish(flow);
        return { kind: 'reject', status: 413, error: 'body_too_large' };
      }
      return this.fail(flow, nowMs, 502, 'upstream_reset'); // local-reject / client-abort: nobody to retry for
    }
    const answer = decideRetry(this.opts.retry, {
      method: flow.info.method,
      failure,
      attempt: flow.attempt,
      bodyReplayable: flow.info.bodyReplayable,
      responseStarted: opts.responseStarted ?? false,
      nowMs,
      deadlineMs: flow.deadlineMs,
      otherBackendAvailable: this.opts.balancer.hasCandidateBesides(flow.tried),
    }, this.opts.rng, this.budget);
    if (answer.retry) {
      flow.holdsRetrySlot = true;
      flow.decisions?.push({ kind: 'retry', atMs: nowMs, delayMs: answer.delayMs });
      return { kind: 'retry', delayMs: answer.delayMs };
    }
    if (answer.reason === 'budget') this.counts.budgetOverflows++;
    flow.decisions?.push({ kind: 'no-retry', atMs: nowMs, reason: answer.reason });
    return this.failWith(flow, nowMs, failure);
  }

  /** HAProxy mode: retry on the same server, or redispatch, as core/haproxy-retry.ts decides. */
  private afterHaproxyFailure(flow: Flow, nowMs: number, failure: FailurePoint): Step {
    const backend = flow.path[flow.path.length - 1];
    const balancer = this.opts.balancer;
    const answer = decideHaproxyRetry(this.opts.haproxy!, {
      failure, retriesDone: flow.attempt, usableServers: balancer.routableCount(), serverUp: balancer.isRoutable(backend),
    });
    if (!answer.retry) {
      flow.decisions?.push({ kind: 'no-retry', atMs: nowMs, reason: 'attempts-exhausted' });
      return this.failWith(flow, nowMs, failure);
    }
    flow.sameServer = answer.redispatch ? undefined : balancer.backend(backend);
    flow.avoid = answer.redispatch ? new Set([backend]) : undefined;
    flow.decisions?.push({ kind: 'retry', atMs: nowMs, delayMs: answer.delayMs });
    return { kind: 'retry', delayMs: answer.delayMs };
  }

  /** Caddy mode: tryAgain after an iteration's error, or the client's status for it. */
  private afterCaddyError(flow: Flow, nowMs: number, error: CaddyError): Step {
    const retriesDone = flow.caddyRetries++;
    flow.caddyError = error;
    const rules = this.opts.caddy!;
    if (!caddyTriesAgain(rules, { error, elapsedMs: nowMs - flow.info.nowMs, retriesDone, method: flow.info.method })) {
      flow.decisions?.push({ kind: 'no-retry', atMs: nowMs, reason: 'attempts-exhausted' });
      const answer = caddyFailure(error);
      return this.fail(flow, nowMs, answer.status, answer.error);
    }
    flow.decisions?.push({ kind: 'retry', atMs: nowMs, delayMs: rules.tryIntervalMs });
    return { kind: 'retry', delayMs: rules.tryIntervalMs };
  }

  /** NGINX mode: the next server at once, or the answer / gateway error core/nginx-retry.ts decided. */
  private afterNginxAttempt(flow: Flow, nowMs: number, verdict: NginxVerdict): Step {
    switch (verdict.kind) {
      case 'next':
        flow.decisions?.push({ kind: 'retry', atMs: nowMs, delayMs: 0 });
        return { kind: 'retry', delayMs: 0 };
      case 'respond': return this.respond(flow, verdict.status);
      case 'fail': return this.fail(flow, nowMs, verdict.status, verdict.error);
    }
  }

  private failWith(flow: Flow, nowMs: number, failure: FailurePoint): Step {
    switch (failure.kind) {
      case 'status': return this.respond(flow, failure.status);
      // HAProxy answers 503 when it could not connect (termination state SC--), Fulcrum 502.
      case 'connect': return this.fail(flow, nowMs, this.opts.haproxy ? 503 : 502, 'connect_failed');
      case 'reset': return this.fail(flow, nowMs, 502, 'upstream_reset');
      case 'timeout': return this.fail(flow, nowMs, 504, 'upstream_timeout');
    }
  }

  /**
   * HAProxy mode: `backend` freed a slot and takes the oldest queued request
   * (queue.c process_srv_queue assigns it to that server, without a new pick).
   */
  dequeue(flow: Flow, backend: Backend, nowMs: number): Step {
    flow.sameServer = backend;
    return this.next(flow, nowMs);
  }

  /** HAProxy mode: `timeout queue` ran out before a slot freed: 503 (termination state sQ--). */
  queueTimedOut(flow: Flow, nowMs: number): Step {
    return this.fail(flow, nowMs, 503, 'no_backend');
  }

  /**
   * The overall deadline passed while an attempt or a backoff was pending. The engine
   * aborts the attempt; this records it (as a timeout against the backend) and answers 504.
   */
  deadlineExceeded(flow: Flow, nowMs: number): Step {
    if (flow.current) {
      const backend = flow.current;
      flow.current = undefined;
      flow.ended.backendFailure = this.opts.balancer.attemptEnded(backend, nowMs, nowMs - flow.attemptStartMs, TIMEOUT);
      flow.ended.ok = false;
      flow.decisions?.push({ kind: 'outcome', atMs: nowMs, backend: backend.id, outcome: TIMEOUT });
    }
    this.releaseSlot(flow);
    return this.fail(flow, nowMs, 504, 'deadline');
  }

  /** The client went away mid-request: free the backend without blaming it. */
  clientAborted(flow: Flow, nowMs: number): void {
    if (flow.current) {
      const backend = flow.current;
      flow.current = undefined;
      this.opts.balancer.attemptEnded(backend, nowMs, nowMs - flow.attemptStartMs, { kind: 'client-abort' });
    }
    this.releaseSlot(flow);
    this.finish(flow);
  }

  private respond(flow: Flow, status: number): Step {
    this.finish(flow);
    return { kind: 'respond', status };
  }

  private fail(flow: Flow, nowMs: number, status: 502 | 503 | 504, error: GatewayError): Step {
    flow.decisions?.push({ kind: 'fail', atMs: nowMs, status, error });
    this.finish(flow);
    return { kind: 'fail', status, error };
  }

  private finish(flow: Flow): void {
    if (flow.done) return;
    flow.done = true;
    this.budget.requestEnded();
  }

  private releaseSlot(flow: Flow): void {
    if (!flow.holdsRetrySlot) return;
    flow.holdsRetrySlot = false;
    this.budget.release();
  }
}

/** Caddy mode: the error an attempt's outcome is to Caddy; undefined for an answer (any status). */
function caddyErrorOf(outcome: AttemptOutcome): CaddyError | undefined {
  switch (outcome.kind) {
    case 'connect-error': return 'dial';
    case 'reset': return 'reset';
    case 'timeout': return 'timeout';
    default: return undefined;
  }
}

/** Maps an attempt outcome to the retry table's failure point; undefined for plain answers. */
export function failurePoint(outcome: AttemptOutcome, retryAfter?: string): FailurePoint | undefined {
  switch (outcome.kind) {
    case 'connect-error': return { kind: 'connect' };
    case 'reset': return { kind: 'reset' };
    case 'timeout': return { kind: 'timeout' };
    case 'response': return outcome.status >= 500 || outcome.status === 429
      ? { kind: 'status', status: outcome.status, retryAfter } : undefined;
    default: return undefined;
  }
}
