// Retry decisions: which failures may be retried for which methods, how long to back off,
// and whether the budget and the deadline allow it. The rule table is NGINX's split
// (since 1.9.13) plus Envoy's budget: a request that provably never reached a backend may
// always go elsewhere; one that may have reached it is retried only when it is idempotent
// and its body can be replayed; nothing is retried once the response started.
import type { RetryConfig } from './config.ts';
import type { AttemptOutcome, Rng } from './types.ts';
import type { Balancer } from './balancer.ts';
import type { Flow } from './router.ts';
import { type AttemptEnd, type RequestRules, type Verdict, finalVerdict, gatewayError } from './request-rules.ts';

/** Where an attempt failed. */
export type FailurePoint =
  /** Connection refused / connect timeout: no request byte left the proxy. */
  | { kind: 'connect' }
  /** Reset or closed after the request was (partly) sent, before response headers. */
  | { kind: 'reset' }
  /** Per-try timeout before response headers. */
  | { kind: 'timeout' }
  /** Response headers arrived with this status; nothing was forwarded yet. */
  | { kind: 'status'; status: number; retryAfter?: string };

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

export interface RetryQuestion {
  method: string;
  failure: FailurePoint;
  /** 0-based index of the attempt that failed. */
  attempt: number;
  /** Can the request body be sent again (no body, or buffered in full)? */
  bodyReplayable: boolean;
  /** Has any byte of the response been sent to the client? */
  responseStarted: boolean;
  nowMs: number;
  /** Overall deadline of the request (absolute ms). */
  deadlineMs: number;
  /** Another backend is available to try (retries never go back to one already tried). */
  otherBackendAvailable: boolean;
}

export type RetryAnswer =
  | { retry: true; delayMs: number }
  | { retry: false; reason: RetryRefusal };

export type RetryRefusal =
  | 'disabled' | 'response-started' | 'attempts-exhausted' | 'not-idempotent' | 'body-not-replayable'
  | 'status-not-retried' | 'deadline' | 'no-other-backend' | 'budget';

/**
 * Decides whether to retry. The budget is checked last and only when everything else says
 * yes, so a refusal for another reason never consumes or counts against it.
 */
export function decideRetry(
  cfg: RetryConfig | undefined, q: RetryQuestion, rng: Rng, budget?: RetryBudget,
): RetryAnswer {
  if (!cfg) return { retry: false, reason: 'disabled' };
  if (q.responseStarted) return { retry: false, reason: 'response-started' };
  if (q.attempt + 1 >= cfg.maxAttempts) return { retry: false, reason: 'attempts-exhausted' };
  if (q.failure.kind !== 'connect') {
    if (!cfg.idempotentMethods.includes(q.method)) return { retry: false, reason: 'not-idempotent' };
    if (!q.bodyReplayable) return { retry: false, reason: 'body-not-replayable' };
    if (q.failure.kind === 'status' && !cfg.retryOn.includes(q.failure.status)) {
      return { retry: false, reason: 'status-not-retried' };
    }
  }
  if (!q.otherBackendAvailable) return { retry: false, reason: 'no-other-backend' };
  let delayMs = backoffDelayMs(cfg, q.attempt, rng);
  if (q.failure.kind === 'status' && q.failure.retryAfter !== undefined) {
    const afterMs = parseRetryAfterMs(q.failure.retryAfter, q.nowMs);
    if (afterMs !== undefined) delayMs = Math.max(delayMs, Math.min(afterMs, cfg.retryAfterMaxMs));
  }
  if (q.nowMs + delayMs >= q.deadlineMs) return { retry: false, reason: 'deadline' };
  if (budget && !budget.tryAcquire()) return { retry: false, reason: 'budget' };
  return { retry: true, delayMs };
}

/** Full-jitter exponential backoff: uniform in [0, min(max, base × 2^attempt)) (AWS, Envoy). */
export function backoffDelayMs(cfg: Pick<RetryConfig, 'backoffBaseMs' | 'backoffMaxMs'>, attempt: number, rng: Rng): number {
  const ceiling = Math.min(cfg.backoffMaxMs, cfg.backoffBaseMs * 2 ** attempt);
  return rng() * ceiling;
}

/**
 * Parses Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. Returns the delay in
 * ms from `nowMs` (never negative), or undefined when the value is neither.
 */
export function parseRetryAfterMs(value: string, nowMs: number): number | undefined {
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // HTTP-date forms all contain a weekday name and "GMT"; Date.parse is pure.
  if (!/GMT$/.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/**
 * Envoy-style retry budget: concurrent retries may not exceed max(minConcurrent,
 * ratio × active requests). A storm against a degraded pool stays bounded.
 */
export class RetryBudget {
  private activeRequests = 0;
  private activeRetries = 0;
  /** Retries refused by the budget so far. */
  overflows = 0;

  constructor(private readonly cfg: { ratio: number; minConcurrent: number } | undefined) {}

  requestStarted(): void { this.activeRequests++; }
  requestEnded(): void { this.activeRequests--; }

  /** Takes one retry slot if the budget allows; counts an overflow otherwise. */
  tryAcquire(): boolean {
    if (!this.cfg) { this.activeRetries++; return true; }
    const allowed = Math.max(this.cfg.minConcurrent, this.cfg.ratio * this.activeRequests);
    if (this.activeRetries + 1 > allowed) { this.overflows++; return false; }
    this.activeRetries++;
    return true;
  }

  /** The retry attempt that held a slot has ended. */
  release(): void { this.activeRetries--; }

  get inUse(): number { return this.activeRetries; }
  get active(): number { return this.activeRequests; }
}

/** Per request: whether it holds a budget slot for the retry in progress. */
interface FulcrumFlow { holdsSlot: boolean }

/** Every request's state when retries are off: it never takes a slot, so one frozen object serves all. */
const NEVER_RETRIED: FulcrumFlow = Object.freeze({ holdsSlot: false });

/**
 * Fulcrum's own request rules: the table above, a budget across requests, retries never
 * back to a backend already tried; no backend is 503. `cfg` undefined: no retries.
 */
export class FulcrumRules implements RequestRules<FulcrumFlow> {
  readonly budget: RetryBudget;

  /** `rng`: the backoff jitter's own stream (the balancer has another). */
  constructor(private readonly cfg: RetryConfig | undefined, private readonly balancer: Balancer, private readonly rng: Rng) {
    this.budget = new RetryBudget(cfg?.budget);
  }

  requestStarted(): FulcrumFlow {
    this.budget.requestStarted();
    return this.cfg ? { holdsSlot: false } : NEVER_RETRIED;
  }

  requestEnded(): void { this.budget.requestEnded(); }

  exclude(flow: Flow): ReadonlySet<string> { return flow.tried; }

  noBackend(): Verdict { return gatewayError(503, 'no_backend'); }

  afterAttempt(flow: Flow, state: FulcrumFlow, nowMs: number, outcome: AttemptOutcome, end: AttemptEnd): Verdict {
    const failure = failurePoint(outcome, end.retryAfter);
    if (!failure) return finalVerdict(outcome, 502);
    const answer = decideRetry(this.cfg, {
      method: flow.info.method,
      failure,
      attempt: flow.attempt,
      bodyReplayable: flow.info.bodyReplayable,
      responseStarted: end.responseStarted ?? false,
      nowMs,
      deadlineMs: flow.deadlineMs,
      otherBackendAvailable: this.balancer.hasCandidateBesides(flow.tried),
    }, this.rng, this.budget);
    if (answer.retry) {
      state.holdsSlot = true;
      return { kind: 'retry', delayMs: answer.delayMs };
    }
    flow.decisions?.push({ kind: 'no-retry', atMs: nowMs, reason: answer.reason });
    return finalVerdict(outcome, 502);
  }

  attemptOver(state: FulcrumFlow): void {
    if (!state.holdsSlot) return;
    state.holdsSlot = false;
    this.budget.release();
  }
}
