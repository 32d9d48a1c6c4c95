// The only door from the proxy into the routing core. It stamps every call with the
// proxy's clock and, when asked, journals it; it never decides anything itself. It also
// keeps one timer armed at the balancer's next deadline, so an ejection ends on time even
// when no request comes; that advance is an input like any other, and journaled.
import {
  type AttemptOutcome, Balancer, type BalancerEvent, type Flow, FulcrumRules, type RoutingConfig, Router, type Step,
} from '../../core/index.ts';
import { STREAM, rngStream } from '../../core/rng.ts';
import { Journal } from './journal.ts';

/** setTimeout's longest delay; a later deadline is re-armed when this one fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface CoreDriverOptions {
  routing: RoutingConfig;
  seed: string | number;
  clock: () => number;
  /** Record decision traces on every flow (Router `trace`). */
  trace?: boolean;
  /** Journal every core call (implies `trace`). */
  journal?: boolean;
  onEvent?: (event: BalancerEvent) => void;
  /** After every input that may change which backends exist or are routable (membership calls and balancer events). */
  onStateChange?: () => void;
}

export class CoreDriver {
  readonly balancer: Balancer;
  /** Follows Fulcrum's request rules (their retry budget is a metric). */
  readonly router: Router<FulcrumRules>;
  readonly journal: Journal | undefined;
  readonly now: () => number;
  private readonly stateChanged: () => void;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private deadlineArmedMs = Infinity;

  constructor(o: CoreDriverOptions) {
    this.now = o.clock;
    this.journal = o.journal ? new Journal() : undefined;
    this.stateChanged = o.onStateChange ?? (() => {});
    const journal = this.journal;
    this.balancer = new Balancer({
      balancer: o.routing.balancer,
      health: o.routing.health,
      rng: rngStream(o.seed, STREAM.balancer),
      onEvent: (e) => { journal?.events.push(e); o.onEvent?.(e); this.stateChanged(); },
    });
    this.router = new Router({
      balancer: this.balancer,
      timeouts: o.routing.timeouts,
      rules: new FulcrumRules(o.routing.retry, this.balancer, rngStream(o.seed, STREAM.router)),
      trace: (o.trace ?? false) || o.journal === true,
    });
  }

  // ---- membership (admin API, start-up) ----------------------------------------------

  add(id: string, weight: number, initial: boolean): void {
    const nowMs = this.now();
    this.balancer.add(id, { weight, nowMs, initial });
    this.journal?.record({ op: 'add', id, weight, initial, nowMs });
    this.armDeadline();
    this.stateChanged();
  }

  remove(id: string): void {
    const nowMs = this.now();
    this.balancer.remove(id, nowMs);
    this.journal?.record({ op: 'remove', id, nowMs });
    this.armDeadline();
    this.stateChanged();
  }

  setWeight(id: string, weight: number): void {
    this.balancer.setWeight(id, weight);
    this.journal?.record({ op: 'weight', id, weight });
  }

  setAdminDown(id: string, down: boolean): void {
    const nowMs = this.now();
    this.balancer.setAdminDown(id, down, nowMs);
    this.journal?.record({ op: 'admin-down', id, down, nowMs });
    this.armDeadline();
    this.stateChanged();
  }

  probeResult(id: string, ok: boolean): void {
    const nowMs = this.now();
    this.journal?.record({ op: 'probe', id, ok, nowMs });
    this.balancer.probeResult(id, ok, nowMs);
    this.armDeadline();
  }

  // ---- one request's life ------------------------------------------------------------

  start(method: string, hashKey: string | undefined, bodyReplayable: boolean): Flow {
    const nowMs = this.now();
    const flow = this.router.start({ method, hashKey, bodyReplayable, nowMs });
    if (this.journal) {
      const id = this.journal.register(flow);
      this.journal.record({ op: 'start', flow: id, method, hashKey, bodyReplayable, nowMs });
    }
    return flow;
  }

  next(flow: Flow): Step {
    const nowMs = this.now();
    if (this.journal) this.journal.record({ op: 'next', flow: this.journal.idOf(flow), nowMs });
    const step = this.router.next(flow, nowMs);
    this.armDeadline();
    return step;
  }

  attemptEnded(flow: Flow, outcome: AttemptOutcome, retryAfter?: string, responseStarted?: boolean): Step {
    const nowMs = this.now();
    if (this.journal) this.journal.record({ op: 'ended', flow: this.journal.idOf(flow), nowMs, outcome, retryAfter, responseStarted });
    // Most attempts end with neither: the Router's own frozen default then stands in, not an object per attempt.
    const end = retryAfter === undefined && responseStarted === undefined ? undefined : { retryAfter, responseStarted };
    return this.armedAfter(this.router.attemptEnded(flow, nowMs, outcome, end));
  }

  /** The attempt's timer fired: the Router knows whether it was the per-try timeout or the deadline. */
  attemptTimedOut(flow: Flow): Step {
    const nowMs = this.now();
    if (this.journal) this.journal.record({ op: 'timed-out', flow: this.journal.idOf(flow), nowMs });
    return this.armedAfter(this.router.attemptTimedOut(flow, nowMs));
  }

  clientAborted(flow: Flow): void {
    if (flow.done && !flow.current) return; // already answered: nothing left to free
    const nowMs = this.now();
    if (this.journal) this.journal.record({ op: 'abort', flow: this.journal.idOf(flow), nowMs });
    this.armedAfter(this.router.clientAborted(flow, nowMs));
  }

  /** After an input that ends (or abandons) an attempt: the deadline timer re-armed, the Router's answer passed on. */
  private armedAfter<T>(result: T): T {
    this.armDeadline();
    return result;
  }

  /** Stops the deadline timer (the proxy is closing). */
  close(): void {
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.deadlineArmedMs = -Infinity; // never re-armed
  }

  // ---- time alone -------------------------------------------------------------------

  /** After every input: one timer at the balancer's next deadline (an ejection running out). */
  private armDeadline(): void {
    const deadlineMs = this.balancer.nextDeadlineMs();
    if (deadlineMs === this.deadlineArmedMs || this.deadlineArmedMs === -Infinity) return;
    clearTimeout(this.deadlineTimer);
    this.deadlineArmedMs = deadlineMs;
    this.deadlineTimer = undefined;
    if (deadlineMs === Infinity) return;
    // A timer may fire a little early: advance() then finds nothing due and this re-arms.
    this.deadlineTimer = setTimeout(() => this.deadlineReached(), Math.min(MAX_TIMER_MS, Math.max(0, deadlineMs - this.now())));
    this.deadlineTimer.unref();
  }

  private deadlineReached(): void {
    this.deadlineArmedMs = Infinity;
    this.deadlineTimer = undefined;
    const nowMs = this.now();
    this.journal?.record({ op: 'advance', nowMs });
    this.balancer.advance(nowMs);
    this.armDeadline();
  }
}
