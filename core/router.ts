// The life of one client request, as a small state machine both engines drive: pick a
// backend, report how the attempt ended, and be told whether to answer, retry (after how
// long, on which backend) or fail with which gateway status. The simulator and the live
// proxy own the sockets and the timers; every decision is made here, the proxy-specific
// ones by the request rules it is given (core/request-rules.ts).
import type { AttemptOutcome, AttemptVerdict, Backend, PickContext, PickTrace } from './types.ts';
import { isOk } from './types.ts';
import type { TimeoutsConfig } from './config.ts';
import type { Balancer } from './balancer.ts';
import type { RetryRefusal } from './retry.ts';
import { newTrace } from './balancer.ts';
import type { AttemptEnd, RequestRules, Verdict } from './request-rules.ts';

export interface RouterOptions<R extends RequestRules = RequestRules> {
  balancer: Balancer;
  timeouts: TimeoutsConfig;
  /** When to retry, where, and what the client gets: Fulcrum's (FulcrumRules) or a modelled proxy's. */
  rules: R;
  /** Record a decision trace on every flow. */
  trace?: boolean;
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
   * Every server is at its limit (HAProxy's maxconn): wait in the backend queue. `dequeue`
   * when a server frees a slot, `queueTimedOut` after `timeoutMs` (HAProxy: timeout queue).
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
  /**
   * Backends tried so far, in order (the `servers` column: `s2|s1`). Shared and empty until
   * the first attempt, then an array of one: `[]` grown by a push reserves seventeen slots.
   */
  get path(): readonly string[] { return this.backendIds; }
  private backendIds: readonly string[] = NO_PATH;
  /** `path` as a set, made on the first read after an attempt: most requests never ask. */
  private triedSet: Set<string> | undefined;
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
  /**
   * The next attempt goes to this backend without a pick: the queue handed it a slot, or the
   * rules retry on the same server. Ignored if the backend has left meanwhile.
   */
  assigned: Backend | undefined;
  done = false;

  constructor(readonly info: RequestInfo, requestMs: number, trace: boolean, readonly rulesState: unknown) {
    this.deadlineMs = info.nowMs + requestMs;
    this.decisions = trace ? [] : undefined;
  }

  /** The backends in `path`: what retries leave out. */
  get tried(): ReadonlySet<string> {
    if (this.backendIds.length === 0) return NONE_TRIED;
    return (this.triedSet ??= new Set(this.backendIds));
  }

  /** The Router starts an attempt on `id`. */
  addTried(id: string): void {
    if (this.backendIds.length === 0) this.backendIds = [id];
    else (this.backendIds as string[]).push(id);
    this.triedSet?.add(id);
  }
}

const NO_PATH: readonly string[] = Object.freeze([]);
const NONE_TRIED: ReadonlySet<string> = new Set();

const TIMEOUT: AttemptOutcome = { kind: 'timeout' };
/** The usual AttemptEnd: no Retry-After, nothing relayed yet (a default `{}` would be an object per attempt). */
const NOTHING_ELSE: AttemptEnd = Object.freeze({});

export class Router<R extends RequestRules = RequestRules> {
  /** Logical requests, attempts and retries since start: metrics both engines report. */
  readonly counts = { requests: 0, attempts: 0, retries: 0 };
  readonly rules: R;
  /**
   * The argument of every pick, refilled each time: a pick reads it and keeps nothing of it
   * (policies that follow a request key their state by `request`, the Flow), and the
   * simulator picks millions of times.
   */
  private readonly pickContext: PickContext = { nowMs: 0, hashKey: undefined, attempt: 0, exclude: undefined, request: undefined };

  constructor(private readonly opts: RouterOptions<R>) {
    this.rules = opts.rules;
  }

  get balancer(): Balancer { return this.opts.balancer; }

  /** A request arrived. Follow with `next`. */
  start(info: RequestInfo): Flow {
    this.counts.requests++;
    return new Flow(info, this.opts.timeouts.requestMs, this.opts.trace ?? false, this.rules.requestStarted());
  }

  /** The first attempt, or the next one after a retry delay. */
  next(flow: Flow, nowMs: number): Step {
    const remainingMs = flow.deadlineMs - nowMs;
    if (remainingMs <= 0) return this.fail(flow, nowMs, 504, 'deadline');
    const trace = flow.decisions ? newTrace() : undefined;
    let backend: Backend | undefined;
    const assigned = flow.assigned;
    flow.assigned = undefined;
    if (assigned && this.opts.balancer.backend(assigned.id) === assigned) {
      backend = assigned;
    } else {
      const ctx = this.pickContext;
      ctx.nowMs = nowMs;
      ctx.hashKey = flow.info.hashKey;
      ctx.attempt = flow.attempt + 1;
      ctx.exclude = this.rules.exclude(flow, flow.rulesState);
      ctx.request = flow;
      backend = this.opts.balancer.pick(ctx, trace);
      ctx.request = undefined; // holds no request beyond its pick
      ctx.exclude = undefined;
      if (trace) flow.decisions!.push({ kind: 'pick', trace });
    }
    if (!backend) {
      this.rules.attemptOver?.(flow.rulesState);
      return this.follow(flow, nowMs, this.rules.noBackend(flow, flow.rulesState, nowMs));
    }
    flow.attempt++;
    flow.current = backend;
    flow.attemptStartMs = nowMs;
    flow.addTried(backend.id);
    this.counts.attempts++;
    if (flow.attempt > 0) this.counts.retries++;
    this.opts.balancer.attemptStarted(backend, nowMs);
    const perTry = this.opts.timeouts.perTryMs ?? Infinity;
    flow.timerIsDeadline = remainingMs <= perTry;
    return { kind: 'attempt', backend, attempt: flow.attempt, timeoutMs: Math.min(perTry, remainingMs) };
  }

  /**
   * The current attempt ended. `end.retryAfter` is the backend's Retry-After header, if any;
   * `end.responseStarted` is true when response bytes already went to the client.
   */
  attemptEnded(flow: Flow, nowMs: number, outcome: AttemptOutcome, end: AttemptEnd = NOTHING_ELSE): Step {
    const backend = flow.current!;
    flow.current = undefined;
    const latencyMs = nowMs - flow.attemptStartMs;
    const serverFailed = this.rules.serverFailed?.(flow, flow.rulesState, nowMs, outcome);
    flow.ended.backendFailure = this.opts.balancer.attemptEnded(backend, nowMs, latencyMs, outcome, serverFailed);
    flow.ended.ok = isOk(outcome);
    this.rules.attemptOver?.(flow.rulesState);
    flow.decisions?.push({ kind: 'outcome', atMs: nowMs, backend: backend.id, outcome });
    return this.follow(flow, nowMs, this.rules.afterAttempt(flow, flow.rulesState, nowMs, outcome, end));
  }

  /**
   * The current attempt's timer fired. The Router armed it (`timeoutMs` of the attempt
   * step), so it knows what it stood for: the request deadline (→ 504 deadline, no retry)
   * or the per-try timeout (→ a timeout outcome, maybe retried).
   */
  attemptTimedOut(flow: Flow, nowMs: number): Step {
    return flow.timerIsDeadline ? this.deadlineExceeded(flow, nowMs) : this.attemptEnded(flow, nowMs, TIMEOUT);
  }

  /**
   * A queued request: `backend` freed a slot and takes the oldest one, without a new pick
   * (HAProxy: queue.c process_srv_queue assigns it to that server).
   */
  dequeue(flow: Flow, backend: Backend, nowMs: number): Step {
    flow.assigned = backend;
    return this.next(flow, nowMs);
  }

  /** A queued request waited its `timeoutMs` without a slot: 503 (HAProxy's termination state sQ--). */
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
    this.rules.attemptOver?.(flow.rulesState);
    return this.fail(flow, nowMs, 504, 'deadline');
  }

  /** The client went away mid-request: free the backend without blaming it. */
  clientAborted(flow: Flow, nowMs: number): void {
    if (flow.current) {
      const backend = flow.current;
      flow.current = undefined;
      this.opts.balancer.attemptEnded(backend, nowMs, nowMs - flow.attemptStartMs, { kind: 'client-abort' });
    }
    this.rules.attemptOver?.(flow.rulesState);
    this.finish(flow);
  }

  /** Carries out the rules' verdict: records it, and ends the request unless it goes on. */
  private follow(flow: Flow, nowMs: number, verdict: Verdict): Step {
    switch (verdict.kind) {
      case 'retry': flow.decisions?.push({ kind: 'retry', atMs: nowMs, delayMs: verdict.delayMs }); break;
      case 'fail': flow.decisions?.push({ kind: 'fail', atMs: nowMs, status: verdict.status, error: verdict.error }); this.finish(flow); break;
      case 'respond': case 'reject': this.finish(flow); break;
      case 'queue': break;
    }
    return verdict;
  }

  private fail(flow: Flow, nowMs: number, status: 502 | 503 | 504, error: GatewayError): Step {
    return this.follow(flow, nowMs, { kind: 'fail', status, error });
  }

  private finish(flow: Flow): void {
    if (flow.done) return;
    flow.done = true;
    this.rules.requestEnded?.(flow.rulesState);
  }
}
