// The balancer: membership, health, ejection, panic and slow start around one policy.
// Both engines drive it the same way: pick → attemptStarted → attemptEnded, plus probe
// results and admin changes. It never reads a clock or a random source of its own.
//
// Time is explicit: every input that carries `nowMs` first calls advance(nowMs), which
// applies what time alone changes (ejections running out, then the slow-start ramp) at the
// exact times they fall due. An engine that has no input to give calls advance() at
// nextDeadlineMs() (the simulator schedules an event, the proxy arms one timer), so an
// ejection ends on time even when no request comes. Reads (status, hasCandidateBesides,
// inPanic, nextDeadlineMs) change nothing: a readiness probe cannot alter routing.
import type { AttemptOutcome, Backend, Candidates, Exclusion, PickContext, PickTrace, Policy, Rng } from './types.ts';
import type { BalancerConfig, HealthConfig } from './config.ts';
import { type ActiveHealthState, type HealthStatus, initialHealth, recordObserved, recordProbe } from './health/active.ts';
import { OutlierDetection, isBackendFailure } from './health/outlier.ts';
import { type Ejection, type EjectionPool, type PassiveHealth, isEjected } from './health/passive.ts';
import { CaddyPassive } from './caddy-passive.ts';
import { slowStartFactor } from './slow-start.ts';
import { createPolicy, policyDefinition } from './policies/index.ts';

/** What the balancer tells its engine: logged, counted, charted. */
export type BalancerEvent =
  | { kind: 'ejected'; id: string; atMs: number; untilMs: number; times: number }
  | { kind: 'unejected'; id: string; atMs: number }
  | { kind: 'health'; id: string; atMs: number; status: HealthStatus }
  | { kind: 'draining'; id: string; atMs: number }
  | { kind: 'removed'; id: string; atMs: number }
  | { kind: 'panic'; atMs: number; active: boolean };

export type Lifecycle = 'active' | 'draining';

/** A read-only view of one backend, for admin APIs, metrics and tests. */
export interface BackendStatus {
  id: string;
  weight: number;
  effectiveWeight: number;
  inFlight: number;
  lifecycle: Lifecycle;
  adminDown: boolean;
  health: HealthStatus;
  ejectedUntilMs: number;
  timesEjected: number;
  routable: boolean;
}

interface Member {
  backend: Backend;
  lifecycle: Lifecycle;
  adminDown: boolean;
  health: ActiveHealthState;
  /** What passive health keeps for this backend, its ejection included. */
  passive: Ejection;
  /** Set while slow start ramps the weight. */
  slowStartFromMs?: number;
}

export interface BalancerOptions {
  balancer: BalancerConfig;
  health?: HealthConfig;
  rng: Rng;
  onEvent?: (event: BalancerEvent) => void;
}

export interface AddOptions {
  weight?: number;
  nowMs: number;
  /**
   * Backends present at start are routable at once unless active checks require a first
   * pass; backends added later also go through slow start (HAProxy: not at process start).
   */
  initial?: boolean;
}

export class Balancer {
  readonly policy: Policy;
  private readonly members = new Map<string, Member>();
  /** In seq order: the order policies see. */
  private ordered: Member[] = [];
  /** Members by Backend.seq, for the per-attempt lookup (an index, not a string hash); removed ones undefined. */
  private readonly bySeq: (Member | undefined)[] = [];
  private nextSeq = 0;
  /** The routable set, rebuilt whenever membership, health or an ejection changes. */
  private cache = new CandidateSet([]);
  private panicking = false;
  /** The earliest ejection end not yet applied; Infinity when none is pending. */
  private deadlineMs = Infinity;
  private readonly ramping = new Set<Member>();
  /** The policy handles `exclude` itself (HAProxy's models): it sees every routable backend. */
  private readonly policyAvoids: boolean;
  private readonly passive: PassiveHealth;
  private readonly pool: EjectionPool = { count: (nowMs) => this.countEjected(nowMs) };

  constructor(private readonly opts: BalancerOptions) {
    this.policy = createPolicy(opts.balancer, opts.rng);
    this.policyAvoids = policyDefinition(opts.balancer.policy).traits.avoidsExcluded ?? false;
    this.passive = passiveHealthOf(opts.health, opts.rng);
  }

  // ---- membership -------------------------------------------------------------------

  add(id: string, o: AddOptions): Backend {
    if (this.members.has(id)) throw new Error(`backend ${id} already exists`);
    this.advance(o.nowMs);
    const weight = o.weight ?? 1;
    if (!(weight > 0)) throw new Error(`weight must be > 0, got ${weight}`);
    const backend: Backend = { id, seq: this.nextSeq++, weight, effectiveWeight: weight, inFlight: 0 };
    const member: Member = {
      backend, lifecycle: 'active', adminDown: false,
      health: initialHealth(this.opts.health?.active), passive: this.passive.initial(),
    };
    this.members.set(id, member);
    this.ordered.push(member);
    this.bySeq[backend.seq] = member;
    if (!o.initial) this.startSlowStart(member, o.nowMs);
    this.reloaded();
    this.membershipChanged(o.nowMs);
    return backend;
  }

  /** Drains: no new picks; the backend is removed when its last attempt ends. */
  remove(id: string, nowMs: number): void {
    const m = this.member(id);
    if (m.lifecycle === 'draining') return;
    this.advance(nowMs);
    m.lifecycle = 'draining';
    this.emit({ kind: 'draining', id, atMs: nowMs });
    this.reloaded();
    this.membershipChanged(nowMs);
    if (m.backend.inFlight === 0) this.finishRemoval(m, nowMs);
  }

  setWeight(id: string, weight: number): void {
    if (!(weight > 0)) throw new Error(`weight must be > 0, got ${weight}`);
    const m = this.member(id);
    m.backend.weight = weight;
    m.backend.effectiveWeight = weight;
    this.ramping.delete(m);
    // The routable set stays the same: only the policy's tables and the weight sums change.
    this.setPolicyMembers();
    this.cache.refreshWeights();
  }

  /** Operator override: down means no traffic at all, not even in panic. */
  setAdminDown(id: string, down: boolean, nowMs: number): void {
    const m = this.member(id);
    if (m.adminDown === down) return;
    this.advance(nowMs);
    m.adminDown = down;
    if (!down) this.startSlowStart(m, nowMs);
    this.refresh(nowMs);
  }

  has(id: string): boolean { return this.members.has(id); }
  /** Members not draining: the servers a proxy's current configuration lists. */
  activeCount(): number {
    let n = 0;
    for (const m of this.ordered) if (m.lifecycle === 'active') n++;
    return n;
  }
  get size(): number { return this.members.size; }

  // ---- time ---------------------------------------------------------------------------

  /**
   * Applies everything time changes up to `nowMs`: each ejection that has run out ends at
   * its own `untilMs` (event, slow start and panic stamped with that time, in time order),
   * then slow-start weights move to `nowMs`. Idempotent; time never moves back.
   */
  advance(nowMs: number): void {
    while (this.deadlineMs <= nowMs) this.expireEjections(this.deadlineMs);
    if (this.ramping.size > 0) this.updateSlowStart(nowMs);
  }

  /** When advance() next has something to do without any other input; Infinity when never. */
  nextDeadlineMs(): number { return this.deadlineMs; }

  // ---- picking ----------------------------------------------------------------------

  /** Picks a backend for one attempt, or undefined when none may take it (→ 503). */
  pick(ctx: PickContext, trace?: PickTrace): Backend | undefined {
    this.advance(ctx.nowMs);
    const all = this.cache;
    let set = all;
    if (ctx.exclude && ctx.exclude.size > 0 && !this.policyAvoids) {
      set = new CandidateSet(all.list.filter((b) => !ctx.exclude!.has(b.id)));
    }
    if (trace) this.fillTrace(trace, ctx, all, set);
    if (set.list.length === 0) return undefined;
    const chosen = this.policy.pick(set, ctx, trace);
    if (trace) trace.chosen = chosen?.id;
    return chosen;
  }

  /**
   * Would a pick that excludes `tried` find anything, as of the last advance? (Retry
   * decisions and the readiness probe ask this; it changes nothing.)
   */
  hasCandidateBesides(tried: ReadonlySet<string>): boolean {
    for (const b of this.cache.list) if (!tried.has(b.id)) return true;
    return false;
  }

  /** The check state of `id`, for the engines' probe interval (undefined once removed). */
  healthState(id: string): Readonly<ActiveHealthState> | undefined { return this.members.get(id)?.health; }

  /** Backends a pick may use now (HAProxy's srv_act), as of the last advance. */
  routableCount(): number { return this.cache.list.length; }

  /** May a pick use `id` now, as of the last advance? */
  isRoutable(id: string): boolean {
    const m = this.members.get(id);
    return m !== undefined && this.cache.has(m.backend);
  }

  attemptStarted(backend: Backend, nowMs: number): void {
    backend.inFlight++;
    this.policy.onAttemptStart?.(backend, nowMs);
  }

  /** Feeds the outcome to the policy and to passive health; finishes a drain. Returns whether it counts against the backend. */
  attemptEnded(backend: Backend, nowMs: number, latencyMs: number, outcome: AttemptOutcome, serverFailed?: boolean): boolean {
    this.advance(nowMs);
    backend.inFlight--;
    this.policy.onAttemptEnd?.(backend, nowMs, latencyMs, outcome, serverFailed);
    const failure = isBackendFailure(outcome, this.opts.health?.outlier?.count500 ?? false);
    const m = this.bySeq[backend.seq];
    if (!m) return failure; // removed meanwhile
    const observe = this.opts.health?.observe;
    const active = this.opts.health?.active;
    if (observe && active) {
      const changed = recordObserved(m.health, active, observe, outcome);
      if (changed) {
        this.emit({ kind: 'health', id: backend.id, atMs: nowMs, status: changed });
        this.refresh(nowMs);
      }
    }
    const wasEjected = isEjected(m.passive, nowMs);
    const until = this.passive.attemptEnded(m.passive, outcome, failure, nowMs, this.pool);
    if (until !== undefined) {
      this.deadlineMs = this.earliestEjectionEnd(); // before the event: a listener may ask nextDeadlineMs()
      this.emit({ kind: 'ejected', id: backend.id, atMs: nowMs, untilMs: until, times: m.passive.timesEjected });
      if (!wasEjected) this.refresh(nowMs);
    }
    if (m.lifecycle === 'draining' && backend.inFlight === 0) this.finishRemoval(m, nowMs);
    return failure;
  }

  /** One active health probe finished. */
  probeResult(id: string, ok: boolean, nowMs: number): void {
    const m = this.members.get(id);
    const cfg = this.opts.health?.active;
    if (!m || !cfg) return;
    this.advance(nowMs);
    const before = m.health.status;
    const changed = recordProbe(m.health, cfg, ok);
    if (ok && this.passive.readmit && isEjected(m.passive, nowMs)) {
      this.passive.readmit(m.passive, nowMs);
      this.emit({ kind: 'unejected', id, atMs: nowMs });
      this.deadlineMs = this.earliestEjectionEnd();
      this.refresh(nowMs);
    }
    if (changed) {
      this.emit({ kind: 'health', id, atMs: nowMs, status: changed });
      if (changed === 'healthy' && before === 'unhealthy') this.startSlowStart(m, nowMs);
      this.refresh(nowMs);
    }
  }

  // ---- views --------------------------------------------------------------------------

  status(nowMs: number): BackendStatus[] {
    return this.ordered.map((m) => ({
      id: m.backend.id,
      weight: m.backend.weight,
      effectiveWeight: m.backend.effectiveWeight,
      inFlight: m.backend.inFlight,
      lifecycle: m.lifecycle,
      adminDown: m.adminDown,
      health: m.health.status,
      ejectedUntilMs: isEjected(m.passive, nowMs) ? m.passive.ejectedUntilMs : 0,
      timesEjected: m.passive.timesEjected,
      routable: this.exclusion(m, nowMs) === undefined,
    }));
  }

  backend(id: string): Backend | undefined { return this.members.get(id)?.backend; }
  ids(): string[] { return this.ordered.map((m) => m.backend.id); }
  get inPanic(): boolean { return this.panicking; }

  // ---- internals --------------------------------------------------------------------

  private member(id: string): Member {
    const m = this.members.get(id);
    if (!m) throw new Error(`unknown backend ${id}`);
    return m;
  }

  private exclusion(m: Member, nowMs: number): Exclusion | undefined {
    if (m.lifecycle === 'draining') return 'draining';
    if (m.adminDown) return 'admin-down';
    if (m.health.status !== 'healthy') return 'unhealthy';
    if (isEjected(m.passive, nowMs)) return 'ejected';
    return undefined;
  }

  /** Rebuilds the routable set after a change at `nowMs`, entering or leaving panic then. */
  private refresh(nowMs: number): void {
    const healthy: Backend[] = [];
    const eligible: Backend[] = []; // what panic may use: not draining, not admin-down
    for (const m of this.ordered) {
      if (m.lifecycle === 'draining' || m.adminDown) continue;
      eligible.push(m.backend);
      if (this.exclusion(m, nowMs) === undefined) healthy.push(m.backend);
    }
    const threshold = this.opts.balancer.panicThresholdPercent;
    const panic = eligible.length > 0 && threshold > 0 && healthy.length * 100 < threshold * eligible.length;
    if (panic !== this.panicking) {
      this.panicking = panic;
      this.emit({ kind: 'panic', atMs: nowMs, active: panic });
    }
    this.cache = new CandidateSet(panic ? eligible : healthy);
  }

  /** Ends every ejection due at `atMs` (the earliest pending), exactly then. */
  private expireEjections(atMs: number): void {
    for (const m of this.ordered) {
      if (m.passive.ejectedUntilMs !== atMs) continue;
      m.passive.ejectedUntilMs = 0;
      this.emit({ kind: 'unejected', id: m.backend.id, atMs });
      if (m.lifecycle === 'active') this.startSlowStart(m, atMs);
    }
    this.deadlineMs = this.earliestEjectionEnd();
    this.refresh(atMs);
  }

  /**
   * Caddy mode: a membership change is a config load. The new handler's upstreams start
   * healthy (hosts.go: the unhealthy flag lives on the new Upstream values) and the old
   * handler's pending failures are forgotten (healthchecks.go countFailure on ctx.Done).
   */
  private reloaded(): void {
    if (!this.opts.health?.reloadResetsHealth) return;
    for (const m of this.ordered) {
      m.health = initialHealth(this.opts.health.active);
      this.passive.reset(m.passive);
    }
    this.deadlineMs = this.earliestEjectionEnd();
  }

  private earliestEjectionEnd(): number {
    let earliest = Infinity;
    for (const m of this.ordered) {
      const until = m.passive.ejectedUntilMs;
      if (until > 0 && until < earliest) earliest = until;
    }
    return earliest;
  }

  private countEjected(nowMs: number): { members: number; ejected: number } {
    let members = 0;
    let ejected = 0;
    for (const m of this.ordered) {
      if (m.lifecycle === 'draining') continue;
      members++;
      if (isEjected(m.passive, nowMs)) ejected++;
    }
    return { members, ejected };
  }

  private startSlowStart(m: Member, nowMs: number): void {
    const cfg = this.opts.balancer.slowStart;
    if (!cfg) return;
    m.slowStartFromMs = nowMs;
    this.ramping.add(m);
    m.backend.effectiveWeight = m.backend.weight * slowStartFactor(cfg, 0);
  }

  private updateSlowStart(nowMs: number): void {
    const cfg = this.opts.balancer.slowStart!;
    for (const m of this.ramping) {
      const factor = slowStartFactor(cfg, nowMs - m.slowStartFromMs!);
      m.backend.effectiveWeight = m.backend.weight * factor;
      if (factor >= 1) { this.ramping.delete(m); m.slowStartFromMs = undefined; }
    }
    // Weight changes do not alter membership, but cached weight sums must be redone.
    this.cache.refreshWeights();
  }

  private finishRemoval(m: Member, nowMs: number): void {
    this.members.delete(m.backend.id);
    this.bySeq[m.backend.seq] = undefined;
    this.ordered = this.ordered.filter((x) => x !== m);
    this.ramping.delete(m);
    this.deadlineMs = this.earliestEjectionEnd();
    this.membershipChanged(nowMs);
    this.emit({ kind: 'removed', id: m.backend.id, atMs: nowMs });
  }

  private membershipChanged(nowMs: number): void {
    this.setPolicyMembers();
    this.refresh(nowMs);
  }

  private setPolicyMembers(): void {
    this.policy.setMembers(this.ordered.filter((m) => m.lifecycle === 'active').map((m) => m.backend));
  }

  private fillTrace(trace: PickTrace, ctx: PickContext, all: CandidateSet, set: CandidateSet): void {
    trace.nowMs = ctx.nowMs;
    trace.attempt = ctx.attempt ?? 0;
    trace.policy = this.policy.name;
    trace.panic = this.panicking;
    trace.candidates = set.list.length;
    trace.skipped = [];
    for (const m of this.ordered) {
      if (set.has(m.backend)) continue;
      const reason = all.has(m.backend) ? 'excluded' : this.exclusion(m, ctx.nowMs) ?? 'excluded';
      trace.skipped.push({ id: m.backend.id, reason });
    }
  }

  private emit(e: BalancerEvent): void {
    this.opts.onEvent?.(e);
  }
}

/** No passive health: nothing an attempt says ejects a backend. */
const NONE: PassiveHealth = {
  initial: () => ({ ejectedUntilMs: 0, timesEjected: 0 }),
  attemptEnded: () => undefined,
  reset: (state) => { state.ejectedUntilMs = 0; },
};

/** The passive health `health` asks for; `rng`: the outlier detector's ejection jitter. */
function passiveHealthOf(health: HealthConfig | undefined, rng: Rng): PassiveHealth {
  if (health?.caddyPassive) return new CaddyPassive(health.caddyPassive);
  if (health?.outlier) return new OutlierDetection(health.outlier, rng);
  return NONE;
}

/** A candidate list with O(1) membership and cached weight totals. */
export class CandidateSet implements Candidates {
  private readonly members: Set<Backend>;
  totalWeight = 0;
  uniformWeights = true;

  constructor(readonly list: readonly Backend[]) {
    this.members = new Set(list);
    this.refreshWeights();
  }

  has(backend: Backend): boolean { return this.members.has(backend); }

  refreshWeights(): void {
    let total = 0;
    const first = this.list[0]?.effectiveWeight;
    let uniform = true;
    for (const b of this.list) {
      total += b.effectiveWeight;
      if (b.effectiveWeight !== first) uniform = false;
    }
    this.totalWeight = total;
    this.uniformWeights = uniform;
  }
}

/** An empty trace to fill in with `pick(ctx, trace)`. */
export function newTrace(): PickTrace {
  return { nowMs: 0, attempt: 0, policy: '', candidates: 0, skipped: [], panic: false };
}
