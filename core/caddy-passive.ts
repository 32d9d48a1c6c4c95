// Caddy 2.6's passive health checks (modules/caddyhttp/reverseproxy at tag v2.6.2):
// - what counts (reverseproxy.go proxyLoopIteration and reverseProxy): every proxy error
//   (dial refused or timed out, a reset, a response header timeout) and every answer whose
//   status matches `unhealthy_status` (StatusCodeMatches: 5 means any 5xx). The answer itself
//   still goes to the client;
// - each failure counts for `fail_duration` (healthchecks.go countFailure: a goroutine takes
//   it back when the timer fires), and only when fail_duration > 0;
// - an upstream is unavailable while its live failures reach `max_fails` (hosts.go Healthy:
//   Fails() < MaxFails; MaxFails defaults to 1 when fail_duration is set, Provision);
// - a config load (every membership change) cancels the old handler's context, and each
//   pending countFailure goroutine then takes its failure back at once: fails start at 0.
// Each upstream's failure expiry times are kept, and "too many" is an ejection that ends
// when enough of them have expired.
import type { AttemptOutcome } from './types.ts';
import type { PassiveHealth } from './health/passive.ts';

export interface CaddyPassiveConfig {
  failDurationMs: number;
  maxFails: number;
  /** `unhealthy_status` codes; a code below 100 is a class (5 = 5xx). */
  unhealthyStatus: readonly number[];
}

/** How many failures an attempt's outcome counts as (one per matching `unhealthy_status` entry). */
function caddyFailuresOf(cfg: CaddyPassiveConfig, outcome: { kind: string; status?: number }): number {
  if (outcome.kind === 'connect-error' || outcome.kind === 'reset' || outcome.kind === 'timeout') return 1;
  if (outcome.kind !== 'response') return 0;
  const status = outcome.status!;
  return cfg.unhealthyStatus.filter((s) => (s < 100 ? Math.floor(status / 100) === s : status === s)).length;
}

/**
 * Adds `count` failures at `nowMs` to `expiries` (ascending, pruned here) and returns when the
 * upstream becomes available again: the time its live failures drop below max_fails (0: available).
 */
function recordCaddyFailures(expiries: number[], cfg: CaddyPassiveConfig, count: number, nowMs: number): number {
  while (expiries.length > 0 && expiries[0] <= nowMs) expiries.shift();
  for (let i = 0; i < count; i++) expiries.push(nowMs + cfg.failDurationMs);
  return expiries.length >= cfg.maxFails ? expiries[expiries.length - cfg.maxFails] : 0;
}

interface CaddyPassiveState {
  ejectedUntilMs: number;
  timesEjected: number;
  /** When each live failure expires, ascending. */
  expiries: number[];
}

/** Caddy's passive checks as the Balancer's passive health; a passing active check readmits nothing early. */
export class CaddyPassive implements PassiveHealth<CaddyPassiveState> {
  constructor(private readonly cfg: CaddyPassiveConfig) {}

  initial(): CaddyPassiveState { return { ejectedUntilMs: 0, timesEjected: 0, expiries: [] }; }

  attemptEnded(state: CaddyPassiveState, outcome: AttemptOutcome, _failure: boolean, nowMs: number): number | undefined {
    const count = caddyFailuresOf(this.cfg, outcome);
    if (count === 0) return undefined;
    const until = recordCaddyFailures(state.expiries, this.cfg, count, nowMs);
    if (until <= state.ejectedUntilMs) return undefined;
    state.ejectedUntilMs = until;
    state.timesEjected++;
    return until;
  }

  reset(state: CaddyPassiveState): void {
    state.expiries = [];
    state.ejectedUntilMs = 0;
  }
}
