// Active health checking as a state machine with hysteresis (HAProxy rise/fall, Envoy
// healthy/unhealthy thresholds). The engine sends the probes; this only decides.
import type { ActiveHealthConfig } from '../config.ts';
import type { AttemptOutcome, Rng } from '../types.ts';

export type HealthStatus = 'unknown' | 'healthy' | 'unhealthy';

export interface ActiveHealthState {
  status: HealthStatus;
  /** Consecutive passes (reset by a failure) and failures (reset by a pass). */
  passes: number;
  failures: number;
  /** HAProxy's check->health counter, in 0 … rise + fall − 1 (counter 'haproxy' only). */
  health?: number;
  /** HAProxy's consecutive_errors seen by `observe layer7`. */
  observedErrors?: number;
}

/** `observe layer7 error-limit N on-error X` (HAProxy mode; not a file setting). */
export interface ObserveConfig {
  errorLimit: number;
  onError: 'fastinter' | 'fail-check' | 'sudden-death' | 'mark-down';
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

/**
 * One attempt's outcome as `observe layer7` judges it (check.c analyze_statuses): a response
 * below 500 (or 501, 505) clears the error run; a 5xx, a refused connection, a reset or a
 * timeout extends it; at `errorLimit` the server takes the on-error action (__health_adjust):
 * fail-check counts as a failed check, sudden-death first leaves it one check from down,
 * mark-down takes it down, fastinter only hastens checks (not modelled). Returns the new status if it changed.
 */
export function recordObserved(
  state: ActiveHealthState, cfg: ActiveHealthConfig, observe: ObserveConfig, outcome: AttemptOutcome,
): HealthStatus | undefined {
  let failed: boolean;
  if (outcome.kind === 'response') failed = outcome.status < 100 || (outcome.status >= 500 && outcome.status !== 501 && outcome.status !== 505);
  else if (outcome.kind === 'connect-error' || outcome.kind === 'reset' || outcome.kind === 'timeout') failed = true;
  else return undefined;
  if (!failed) { state.observedErrors = 0; return undefined; }
  state.observedErrors = (state.observedErrors ?? 0) + 1;
  if (state.observedErrors < observe.errorLimit) return undefined;
  state.observedErrors = 0;
  if (observe.onError === 'fastinter') return undefined;
  const h = state.health ?? cfg.rise;
  if (observe.onError === 'sudden-death' && h > cfg.rise) state.health = cfg.rise + 1;
  if (observe.onError === 'mark-down') state.health = cfg.rise;
  return recordHaproxyCheck(state, cfg, false);
}

/** Delay until the next probe: the interval stretched by up to `jitterMs`, so probes do not synchronise. */
export function nextProbeDelayMs(cfg: ActiveHealthConfig, rng: Rng, state?: ActiveHealthState): number {
  return checkIntervalMs(cfg, state) + (cfg.jitterMs > 0 ? rng() * cfg.jitterMs : 0);
}

/**
 * The interval to the next check. With HAProxy's counter it is server.c srv_getinter:
 * `inter` while fully up, `downinter` while down at 0, `fastinter` in between (including
 * the start, where the counter sits at `rise`); each falls back to `inter`.
 */
export function checkIntervalMs(cfg: ActiveHealthConfig, state: ActiveHealthState | undefined): number {
  if (cfg.counter !== 'haproxy' || !state || state.health === undefined) return cfg.intervalMs;
  if (state.health === cfg.rise + cfg.fall - 1) return cfg.intervalMs;
  if (state.health === 0) return cfg.downinterMs ?? cfg.intervalMs;
  return cfg.fastinterMs ?? cfg.intervalMs;
}
