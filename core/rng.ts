// The seeded random tree, one derivation for every engine: the stream for (seed, label) is
// Alea("<seed>/<label>"), so the same seed gives the same draws in the simulator, the
// proxy and the replicas, and adding a stream (a server, a probe) shifts no other one.
// Alea (Baagøe) rather than seedrandom's default ARC4: ~136 M draws/s vs ~29 M, 32 bits
// per draw, plenty for sampling times and coin flips.
import seedrandom from 'seedrandom';
import type { Rng } from './types.ts';

/** The stream for `label` under `seed`; the same pair always yields the same sequence. */
export function rngStream(seed: number | string, label: string): Rng {
  return seedrandom.alea(`${seed}/${label}`);
}

/**
 * The seed balancer instance `index` derives its streams from when a run has several
 * (experiments/balancers.ts; the proxy's --workers): the run's own seed for the first, so one
 * balancer draws exactly as ever, and `<seed>/balancer-<index>` for the others.
 */
export function instanceSeed(seed: number | string, index: number): number | string {
  return index === 0 ? seed : `${seed}/balancer-${index}`;
}

/** The labels each consumer draws under; engines name streams only through these. */
export const STREAM = {
  /** The balancer: random and P2C picks, ejection jitter. */
  balancer: 'balancer',
  /** The router: retry backoff jitter. */
  router: 'retry-backoff',
  /** Active health checks: probe interval jitter. */
  healthJitter: 'health-jitter',
  /** The simulated proxy's CPU cost per job, when not constant (sim/model/proxy-cpu.ts). */
  proxyCpu: 'proxy-cpu',
  /** One server's service times (the simulated server, or the live replica of that id). */
  service: (serverId: string) => `server/${serverId}`,
  /** One server's fault coin flips (error and reset probabilities). */
  faults: (serverId: string) => `faults/${serverId}`,
} as const;
