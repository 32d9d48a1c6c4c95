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
}

export function initialHealth(cfg: ActiveHealthConfig | undefined, provenHealthy = false): ActiveHealthState {
  const status: HealthStatus = !cfg || provenHealthy || !cfg.requireFirstPass ? 'healthy' : 'unknown';
  return { status, passes: 0, failures: 0 };
}

/**
 * Records one probe result and returns the new status if it changed. A backend that has
 * never passed goes up on its first pass (Envoy warming); after that `rise` consecutive
 * passes bring it up and `fall` consecutive failures take it down.
 */
export function recordProbe(state: ActiveHealthState, cfg: ActiveHealthConfig, ok: boolean): HealthStatus | undefined {
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

/** Delay until the next probe: the interval stretched by up to `jitterMs`, so probes do not synchronise. */
export function nextProbeDelayMs(cfg: ActiveHealthConfig, rng: Rng): number {
  return cfg.intervalMs + (cfg.jitterMs > 0 ? rng() * cfg.jitterMs : 0);
}
