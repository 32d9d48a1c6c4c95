// Slow start (Envoy slow_start_config, HAProxy slowstart): a backend that (re)joins ramps
// its weight over a window instead of taking a full share of traffic while cold.
import type { SlowStartConfig } from './config.ts';

/** Weight multiplier in [minWeightPercent/100, 1] at `elapsedMs` after joining. */
export function slowStartFactor(cfg: SlowStartConfig, elapsedMs: number): number {
  if (cfg.steps === 'haproxy') return haproxySlowStartFactor(cfg.windowMs, elapsedMs);
  if (elapsedMs >= cfg.windowMs) return 1;
  const ramp = Math.pow(Math.max(0, elapsedMs) / cfg.windowMs, 1 / cfg.aggression);
  return Math.max(cfg.minWeightPercent / 100, ramp);
}

/**
 * HAProxy's ramp (server.c server_recalc_eweight): `slowstart` is kept in whole seconds
 * (rounded up), and the weight is uweight × w / 16 with w = (16 × elapsed seconds +
 * slowstart) / slowstart in integers — 1/16 at once, then one step per second, full at the end.
 */
export function haproxySlowStartFactor(windowMs: number, elapsedMs: number): number {
  const slowstartS = Math.ceil(windowMs / 1000);
  const elapsedS = Math.floor(Math.max(0, elapsedMs) / 1000);
  if (elapsedS >= slowstartS) return 1;
  return Math.floor((16 * elapsedS + slowstartS) / slowstartS) / 16;
}
