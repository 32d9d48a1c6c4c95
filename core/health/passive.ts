// The seam between the Balancer and passive health: what ended attempts say about a backend.
// The Balancer owns the ejection itself (it leaves the routable set until `ejectedUntilMs`,
// ends on time, emits the events); an implementation decides when an outcome ejects, for
// how long, and what else it remembers per backend. Fulcrum's outlier detection
// (health/outlier.ts) and Caddy's passive checks (core/caddy-passive.ts) are the two.
// NGINX's max_fails lives in its policies (core/policies/nginx-upstream.ts), fed by the
// Router's rules through the policy's onAttemptEnd. The Balancer picks one from its health
// config (passiveHealthOf in core/balancer.ts).
import type { AttemptOutcome } from '../types.ts';

/** What the Balancer reads of any backend's passive-health state. */
export interface Ejection {
  /** 0 when not ejected. */
  ejectedUntilMs: number;
  /** Ejections so far, as the implementation counts them (the `ejected` event's `times`). */
  timesEjected: number;
}

/** Is the backend ejected at `nowMs`? */
export function isEjected(state: Ejection, nowMs: number): boolean {
  return state.ejectedUntilMs > nowMs;
}

/** The members an ejection is capped against: not draining, and how many of them are ejected at `nowMs`. */
export interface EjectionPool {
  count(nowMs: number): { members: number; ejected: number };
}

export interface PassiveHealth<S extends Ejection = Ejection> {
  /** A new backend's state. */
  initial(): S;
  /**
   * An attempt on the backend ended (`failure`: the balancer's isBackendFailure verdict).
   * Returns the new end of its ejection when this outcome ejects it or makes the ejection
   * longer (having set `ejectedUntilMs`), else undefined.
   */
  attemptEnded(state: S, outcome: AttemptOutcome, failure: boolean, nowMs: number, pool: EjectionPool): number | undefined;
  /** A passing active check on an ejected backend ends the ejection early (Envoy's default); absent: it does not. */
  readmit?(state: S, nowMs: number): void;
  /** A config load (Caddy mode, reloadResetsHealth): the ejection ends and pending failures are forgotten. */
  reset(state: S): void;
}
