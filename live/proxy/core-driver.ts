// The only door from the proxy into the routing core. It stamps every call with the
// proxy's clock and, when asked, journals it; it never decides anything itself.
import {
  type AttemptOutcome, Balancer, type BalancerEvent, type Flow, type RoutingConfig, Router, type Step,
} from '../../core/index.ts';
import { seededRng } from './clock.ts';
import { Journal } from './journal.ts';

export interface CoreDriverOptions {
  routing: RoutingConfig;
  seed: string | number;
  clock: () => number;
  /** Record decision traces on every flow (Router `trace`). */
  trace?: boolean;
  /** Journal every core call (implies `trace`). */
  journal?: boolean;
  onEvent?: (event: BalancerEvent) => void;
}

/** `ok`: the backend answered below 500 (the result files' definition). */
export interface AttemptObserver {
  started(backendId: string): void;
  ended(backendId: string, ok: boolean): void;
}

export class CoreDriver {
  readonly balancer: Balancer;
  readonly router: Router;
  readonly journal: Journal | undefined;
  readonly now: () => number;
  private observer: AttemptObserver | undefined;

  constructor(o: CoreDriverOptions) {
    this.now = o.clock;
    this.journal = o.journal ? new Journal() : undefined;
    const journal = this.journal;
    this.balancer = new Balancer({
      balancer: o.routing.balancer,
      health: o.routing.health,
      rng: seededRng(o.seed, 'balancer'),
      onEvent: (e) => { journal?.events.push(e); o.onEvent?.(e); },
    });
    this.router = new Router({
      balancer: this.balancer,
      retry: o.routing.retry,
      timeouts: o.routing.timeouts,
      rng: seededRng(o.seed, 'router'),
      trace: (o.trace ?? false) || o.journal === true,
    });
  }

  // ---- membership (admin API, start-up) ----------------------------------------------

  add(id: string, weight: number, initial: boolean): void {
    const nowMs = this.now();
    this.balancer.add(id, { weight, nowMs, initial });
    this.journal?.record({ op: 'add', id, weight, initial, nowMs });
  }

  remove(id: string): void {
    const nowMs = this.now();
    this.balancer.remove(id, nowMs);
    this.journal?.record({ op: 'remove', id, nowMs });
  }

  setWeight(id: string, weight: number): void {
    this.balancer.setWeight(id, weight);
    this.journal?.record({ op: 'weight', id, weight });
  }

  setAdminDown(id: string, down: boolean): void {
    const nowMs = this.now();
    this.balancer.setAdminDown(id, down, nowMs);
    this.journal?.record({ op: 'admin-down', id, down, nowMs });
  }

  probeResult(id: string, ok: boolean): void {
    const nowMs = this.now();
    this.journal?.record({ op: 'probe', id, ok, nowMs });
    this.balancer.probeResult(id, ok, nowMs);
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
    if (step.kind === 'attempt') this.observer?.started(step.backend.id);
    return step;
  }

  attemptEnded(flow: Flow, outcome: AttemptOutcome, retryAfter?: string, responseStarted?: boolean): Step {
    const nowMs = this.now();
    if (this.journal) this.journal.record({ op: 'ended', flow: this.journal.idOf(flow), nowMs, outcome, retryAfter, responseStarted });
    if (this.observer && flow.current) this.observer.ended(flow.current.id, outcome.kind === 'response' && outcome.status < 500);
    return this.router.attemptEnded(flow, nowMs, outcome, { retryAfter, responseStarted });
  }

  deadlineExceeded(flow: Flow): Step {
    const nowMs = this.now();
    if (this.journal) this.journal.record({ op: 'deadline', flow: this.journal.idOf(flow), nowMs });
    if (this.observer && flow.current) this.observer.ended(flow.current.id, false);
    return this.router.deadlineExceeded(flow, nowMs);
  }

  clientAborted(flow: Flow): void {
    if (flow.done && !flow.current) return; // already answered: nothing left to free
    const nowMs = this.now();
    if (this.journal) this.journal.record({ op: 'abort', flow: this.journal.idOf(flow), nowMs });
    if (this.observer && flow.current) this.observer.ended(flow.current.id, false);
    this.router.clientAborted(flow, nowMs);
  }

  /** Hears every attempt's start and end: the live runner's per-server timeline. */
  observeAttempts(observer: AttemptObserver | undefined): void { this.observer = observer; }
}
