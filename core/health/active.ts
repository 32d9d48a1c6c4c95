// Active health checking as a state machine with hysteresis (HAProxy rise/fall, Envoy
// healthy/unhealthy thresholds). The engine sends the probes; this only decides.
import type { ActiveHealthConfig } from '../config.ts';
import type { Rng } from '../types.ts';

export type HealthStatus = 'unknown' | 'healthy' | 'unhealthy';

export interface ActiveHealthState {
  status: HealthStatus;
  /** Consecutive passes (reset by a failure) and failures (reset by a pass). */
  passes: number;
  failures: number;
  /** HAProxy's check->health counter, in 0 … rise + fall − 1 (counter 'haproxy' only). */
  health?: number;
}

export function initialHealth(cfg: ActiveHealthConfig | undefined, provenHealthy = false): ActiveHealthState {
  const status: HealthStatus = !cfg || provenHealthy || !cfg.requireFirstPass ? 'healthy' : 'unknown';
  // HAProxy starts a checked server up with its counter at `rise`, the edge: one failed check takes it down.
  return cfg?.counter === 'haproxy' ? { status: 'healthy', passes: 0, failures: 0, health: cfg.rise } : { status, passes: 0, failures: 0 };
}

/**
 * Records one probe result and returns the new status if it changed. A backend that has
 * never passed goes up on its first pass (Envoy warming); after that `rise` consecutive
 * passes bring it up and `fall` consecutive failures take it down.
 */
export function recordProbe(state: ActiveHealthState, cfg: ActiveHealthConfig, ok: boolean): HealthStatus | undefined {
  if (cfg.counter === 'haproxy') return recordHaproxyCheck(state, cfg, ok);
  if (ok) {
    state.passes++;
    state.failures = 0;
    if (state.status === 'unknown' || (state.status === 'unhealthy' && state.passes >= cfg.rise)) {
      state.status = 'healthy';
      return 'healthy';
    }
  } else {
    state.failures++;
    state.passes = 0;
    if (state.status !== 'unhealthy' && state.failures >= cfg.fall) {
      state.status = 'unhealthy';
      return 'unhealthy';
    }
  }
  return undefined;
}

/**
 * HAProxy's counter (check.c, the check result handling): a pass adds one and, on reaching
 * `rise`, jumps to rise + fall − 1 (up); a failure takes one and, below `rise`, drops to 0
 * (down). So an up server needs `fall` failures, a down one `rise` passes from 0 — and a
 * server at the start edge goes down on its first failure.
 */
function recordHaproxyCheck(state: ActiveHealthState, cfg: ActiveHealthConfig, ok: boolean): HealthStatus | undefined {
  const max = cfg.rise + cfg.fall - 1;
  let h = state.health ?? cfg.rise;
  if (ok) {
    if (h < max) { h++; if (h >= cfg.rise) h = max; }
  } else if (h > 0) {
    h--;
    if (h < cfg.rise) h = 0;
  }
  state.health = h;
  const status: HealthStatus = h >= cfg.rise ? 'healthy' : 'unhealthy';
  if (status === state.status) return undefined;
  state.status = status;
  return status;
}

/** Delay until the next probe: the interval stretched by up to `jitterMs`, so probes do not synchronise. */
export function nextProbeDelayMs(cfg: ActiveHealthConfig, rng: Rng): number {
  return cfg.intervalMs + (cfg.jitterMs > 0 ? rng() * cfg.jitterMs : 0);
}
