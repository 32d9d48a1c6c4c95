// The vocabulary shared by the routing core, the simulator and the live proxy.
// Everything here is plain data: time is a number of milliseconds passed in by the
// engine, randomness is a function passed in by the engine.

/** A random source returning floats in [0, 1). The simulator passes a seeded stream. */
export type Rng = () => number;

/** Why a backend may not receive new requests. */
export type Exclusion = 'removed' | 'draining' | 'admin-down' | 'unhealthy' | 'ejected' | 'excluded' | 'over-bound';

/**
 * One backend as the core sees it. The balancer owns these objects; policies read them
 * (never mutate them) and may keep their own per-backend state keyed by the object.
 */
export interface Backend {
  readonly id: string;
  /** Insertion order: a stable tie-breaker that never depends on object key order. */
  readonly seq: number;
  /** Configured weight (> 0). */
  weight: number;
  /** Weight after slow start; what weight-aware policies use. */
  effectiveWeight: number;
  /** Attempts currently outstanding on this backend (counted by the balancer). */
  inFlight: number;
}

/** What a pick needs to know beyond the candidate set. */
export interface PickContext {
  nowMs: number;
  /** Key for hashing policies (the client address); ignored by the others. */
  hashKey?: string;
  /** 0 for the first attempt of a request, 1 for the first retry, and so on. */
  attempt?: number;
  /** Backends already tried by this request: retries go elsewhere. */
  exclude?: ReadonlySet<string>;
  /**
   * The same object for every pick of one request (the Router passes its Flow): policies
   * that carry state from one try to the next (NGINX's hash methods walk on from the last
   * hash) key it by this.
   */
  request?: object;
}

/** The backends a policy may choose from, in `seq` order, with O(1) membership. */
export interface Candidates {
  readonly list: readonly Backend[];
  has(backend: Backend): boolean;
  /** Sum of `effectiveWeight` over the list. */
  readonly totalWeight: number;
  /** True when every candidate has the same effective weight (policies take a faster path). */
  readonly uniformWeights: boolean;
}

/** How one attempt on a backend ended. */
export type AttemptOutcome =
  | { kind: 'response'; status: number }
  | { kind: 'connect-error' }
  | { kind: 'reset' }
  | { kind: 'timeout' }
  /**
   * The proxy refused it itself (overload, budget, a streamed body that cannot be sent
   * again): never the backend's fault. `body-too-large`: the body passed the size cap
   * while being sent, and the client gets 413.
   */
  | { kind: 'local-reject'; reason?: 'body-too-large' }
  /** The client went away: never the backend's fault. */
  | { kind: 'client-abort' };

/** What the result files count as ok: any status below 500 (4xx is the client's business). */
export function isOkStatus(status: number): boolean {
  return status < 500;
}

/** An attempt that ended in an ok answer (see isOkStatus). */
export function isOk(outcome: AttemptOutcome): boolean {
  return outcome.kind === 'response' && isOkStatus(outcome.status);
}

/** How the core judged one ended attempt, so engines count it without judging again. */
export interface AttemptVerdict {
  /** An answer below 500 (isOk). */
  ok: boolean;
  /** Counts against the backend (outlier detection's rule, isBackendFailure). */
  backendFailure: boolean;
}

/**
 * A balancing policy: picks one backend from the candidates. Membership changes are
 * explicit calls, so hash tables are rebuilt there, never on the request path.
 */
export interface Policy {
  readonly name: string;
  /** The full membership changed (add, remove, weight). `members` is in `seq` order. */
  setMembers(members: readonly Backend[]): void;
  /** Choose one of `candidates.list` (non-empty); undefined only if none fits (bounded load never does that). */
  pick(candidates: Candidates, ctx: PickContext, trace?: PickTrace): Backend | undefined;
  /** An attempt starts on `backend` (after inFlight was incremented). */
  onAttemptStart?(backend: Backend, nowMs: number): void;
  /**
   * An attempt ended (after inFlight was decremented). `serverFailed`: the Router's request
   * rules judged it a failure of the server (RequestRules.serverFailed: NGINX's
   * NGX_PEER_FAILED); undefined when they leave that to the balancer.
   */
  onAttemptEnd?(backend: Backend, nowMs: number, latencyMs: number, outcome: AttemptOutcome, serverFailed?: boolean): void;
}

/** Why each pick went the way it did: compact enough to log for every request. */
export interface PickTrace {
  nowMs: number;
  attempt: number;
  policy: string;
  /** Number of backends the policy could choose from. */
  candidates: number;
  /** Backends left out, and why. */
  skipped: Array<{ id: string; reason: Exclusion }>;
  /** True when too few backends were healthy and the pick ignored health. */
  panic: boolean;
  /** Policy-specific detail, e.g. the two P2C draws and their costs. */
  considered?: Array<{ id: string; score?: number }>;
  chosen?: string;
}
