// Passive outlier ejection (Envoy outlier detection, consecutive-failure detector):
// N consecutive failures eject a backend for base × times-ejected, capped and jittered;
// the multiplier decays while the backend stays healthy.
import type { OutlierConfig } from '../config.ts';
import type { AttemptOutcome, Rng } from '../types.ts';
import { type EjectionPool, type PassiveHealth, isEjected } from './passive.ts';

export interface OutlierState {
  consecutiveFailures: number;
  /** How many ejections the next one is multiplied by (decays while healthy). */
  timesEjected: number;
  /** 0 when not ejected. */
  ejectedUntilMs: number;
  /** When the last ejection ended (for decay). */
  lastEjectionEndMs: number;
}

export function initialOutlier(): OutlierState {
  return { consecutiveFailures: 0, timesEjected: 0, ejectedUntilMs: 0, lastEjectionEndMs: 0 };
}

/**
 * Does this outcome count against the backend? Connect errors, resets, per-try timeouts and
 * 502/503/504 do (500 only when asked); 4xx, other 5xx such as 501/505, the proxy's own
 * rejections and client aborts never do.
 */
export function isBackendFailure(outcome: AttemptOutcome, count500: boolean): boolean {
  switch (outcome.kind) {
    case 'connect-error':
    case 'reset':
    case 'timeout':
      return true;
    case 'response':
      return outcome.status === 502 || outcome.status === 503 || outcome.status === 504 || (count500 && outcome.status === 500);
    case 'local-reject':
    case 'client-abort':
      return false;
  }
}

/**
 * Records one outcome. Returns the ejection end time when this outcome ejects the backend
 * and the pool's cap allows one more ejection.
 */
export function recordOutcome(
  state: OutlierState, cfg: OutlierConfig, failure: boolean, nowMs: number, rng: Rng, pool: EjectionPool,
): number | undefined {
  if (!failure) {
    state.consecutiveFailures = 0;
    return undefined;
  }
  if (isEjected(state, nowMs)) return undefined; // late answers from before the ejection
  state.consecutiveFailures++;
  if (state.consecutiveFailures < cfg.consecutiveFailures || !mayEjectOneMore(pool, cfg, nowMs)) return undefined;
  decay(state, cfg, nowMs);
  state.timesEjected++;
  const durationMs = Math.min(cfg.baseEjectionMs * state.timesEjected, cfg.maxEjectionMs)
    + (cfg.jitterMs > 0 ? rng() * cfg.jitterMs : 0);
  state.consecutiveFailures = 0;
  state.ejectedUntilMs = nowMs + durationMs;
  state.lastEjectionEndMs = state.ejectedUntilMs;
  return state.ejectedUntilMs;
}

/** The pool-level cap: at most maxEjectionPercent of the pool out at once. */
function mayEjectOneMore(pool: EjectionPool, cfg: OutlierConfig, nowMs: number): boolean {
  const { members, ejected } = pool.count(nowMs);
  return ejected + 1 <= maxEjected(members, cfg.maxEjectionPercent);
}

/** Ends an ejection early (an active health check passed: Envoy's default). */
export function uneject(state: OutlierState, nowMs: number): void {
  if (!isEjected(state, nowMs)) return;
  state.ejectedUntilMs = 0;
  state.lastEjectionEndMs = nowMs;
}

/** Each full `decayMs` of health since the last ejection ended takes one off the multiplier. */
function decay(state: OutlierState, cfg: OutlierConfig, nowMs: number): void {
  if (state.timesEjected === 0) return;
  const healthyMs = nowMs - state.lastEjectionEndMs;
  const steps = Math.floor(healthyMs / (cfg.decayMs ?? cfg.baseEjectionMs));
  state.timesEjected = Math.max(0, state.timesEjected - steps);
}

/** How many backends of a pool of `n` may be ejected at once: the cap, but always at least one. */
export function maxEjected(n: number, maxEjectionPercent: number): number {
  if (maxEjectionPercent <= 0 || n === 0) return 0;
  return Math.max(1, Math.floor((n * maxEjectionPercent) / 100));
}

/** Outlier detection as the Balancer's passive health; ejects at most maxEjectionPercent of the pool. */
export class OutlierDetection implements PassiveHealth<OutlierState> {
  constructor(private readonly cfg: OutlierConfig, private readonly rng: Rng) {}

  initial(): OutlierState { return initialOutlier(); }

  attemptEnded(state: OutlierState, _outcome: AttemptOutcome, failure: boolean, nowMs: number, pool: EjectionPool): number | undefined {
    return recordOutcome(state, this.cfg, failure, nowMs, this.rng, pool);
  }

  readmit(state: OutlierState, nowMs: number): void { uneject(state, nowMs); }

  reset(state: OutlierState): void { state.ejectedUntilMs = 0; }
}
