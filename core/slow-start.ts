// Slow start (Envoy slow_start_config, HAProxy slowstart): a backend that (re)joins ramps
// its weight over a window instead of taking a full share of traffic while cold.
import type { SlowStartConfig } from './config.ts';

/** Weight multiplier in [minWeightPercent/100, 1] at `elapsedMs` after joining. */
export function slowStartFactor(cfg: SlowStartConfig, elapsedMs: number): number {
  if (elapsedMs >= cfg.windowMs) return 1;
  const ramp = Math.pow(Math.max(0, elapsedMs) / cfg.windowMs, 1 / cfg.aggression);
  return Math.max(cfg.minWeightPercent / 100, ramp);
}
