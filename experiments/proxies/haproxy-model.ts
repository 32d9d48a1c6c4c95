// What the simulator runs for `--proxy haproxy`: the experiment with its routing sections
// replaced by HAProxy's models, built from HaproxySettings alone (the same settings the
// config generator turns into haproxy.cfg). Balance → a haproxy-* policy; checks → active
// health counted as HAProxy counts it (servers start up); observe layer7 → its on-error
// action on that counter; retries → the Router's HAProxy rules.
import { BalancerSchema, type BalancerConfig, type HealthConfig } from '../../core/config.ts';
import type { HaproxyRetryRules } from '../../core/haproxy-retry.ts';
import type { RunConfig } from '../schema.ts';
import type { HaproxySettings } from './haproxy-settings.ts';

export interface HaproxyModelRun {
  config: RunConfig;
  rules: HaproxyRetryRules;
}

/** No overall deadline in HAProxy: the Router's is set beyond any run. */
const NO_DEADLINE_MS = 1e9;
/** server_recalc_eweight starts a slow start at 1/16 of the weight (BE_WEIGHT_SCALE). */
const SLOWSTART_FLOOR_PERCENT = 100 / 16;

export function haproxyModelRun(cfg: RunConfig, s: HaproxySettings): HaproxyModelRun {
  const health: HealthConfig = {};
  if (s.check) {
    health.active = {
      intervalMs: s.check.interMs, timeoutMs: Math.min(s.timeouts.checkMs ?? s.check.interMs, s.check.interMs),
      rise: s.check.rise, fall: s.check.fall, jitterMs: 0, path: s.check.path, requireFirstPass: false, counter: 'haproxy',
      ...(s.check.fastinterMs !== undefined ? { fastinterMs: s.check.fastinterMs } : {}),
      ...(s.check.downinterMs !== undefined ? { downinterMs: s.check.downinterMs } : {}),
    };
  }
  if (s.observe) health.observe = { errorLimit: s.observe.errorLimit, onError: s.observe.onError };
  return {
    config: {
      ...cfg,
      health: health.active ? health : undefined,
      balancer: withHaproxySteps(balancerOf(s)),
      retry: undefined,
      timeouts: { requestMs: NO_DEADLINE_MS, perTryMs: s.timeouts.serverMs, connectMs: s.timeouts.connectMs },
    },
    rules: {
      retries: s.retries, redispatch: s.redispatch, retryOn: s.retryOn, connectMs: s.timeouts.connectMs,
      hashBalance: s.balance.algorithm === 'source',
      refusesAddServer: s.balance.algorithm === 'static-rr' || (s.balance.algorithm === 'source' && s.balance.hashType.method === 'map-based'),
      ...(s.maxconn !== undefined ? { maxconn: s.maxconn, queueTimeoutMs: s.timeouts.queueMs ?? s.timeouts.connectMs } : {}),
    },
  };
}

/** Slow start in HAProxy's one-second steps (not a file setting, so set after validation). */
function withHaproxySteps(b: BalancerConfig): BalancerConfig {
  if (b.slowStart) b.slowStart = { ...b.slowStart, steps: 'haproxy' };
  return b;
}

function balancerOf(s: HaproxySettings): BalancerConfig {
  const b = s.balance;
  const maxconn = s.maxconn === undefined ? {} : { maxconn: s.maxconn };
  // Slow start steers only the dynamic algorithms (BE_LB_PROP_DYN): not static-rr, first or map-based source.
  const slowStart = s.slowstartMs ? { slowStart: { windowMs: s.slowstartMs, aggression: 1, minWeightPercent: SLOWSTART_FLOOR_PERCENT } } : {};
  const common = { panicThresholdPercent: 0 };
  switch (b.algorithm) {
    case 'roundrobin': return BalancerSchema.parse({ policy: 'haproxy-roundrobin', ...common, ...maxconn, ...slowStart });
    case 'leastconn': return BalancerSchema.parse({ policy: 'haproxy-leastconn', ...common, ...maxconn, ...slowStart });
    case 'static-rr': return BalancerSchema.parse({ policy: 'haproxy-static-rr', ...common, ...maxconn });
    case 'first': return BalancerSchema.parse({ policy: 'haproxy-first', ...common, ...maxconn });
    case 'random': return BalancerSchema.parse({
      policy: 'haproxy-random', ...common, draws: b.draws, hashBalanceFactor: 0, ...slowStart,
    });
    case 'source': return BalancerSchema.parse({
      policy: 'haproxy-source', ...common, hashMethod: b.hashType.method, avalanche: b.hashType.avalanche,
      hashBalanceFactor: b.hashBalanceFactor ?? 0, ...(b.hashType.method === 'consistent' ? slowStart : {}),
    });
  }
}
