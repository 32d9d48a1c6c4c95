// What the model tests of every proxy share: a balancer of the core's model with servers
// s1 … at given weights (no panic mode: no proxy modelled here has one), requests one after
// another through it, and counts per server.
import { Balancer } from '../../core/balancer.ts';
import { BalancerSchema, type HealthConfig } from '../../core/config.ts';
import { rngStream } from '../../core/rng.ts';
import type { AttemptOutcome } from '../../core/types.ts';

/** `cfg` as the schema reads it (panicThresholdPercent 0 unless given), servers s1 … present from the start at these weights. */
export function modelBalancer(cfg: Record<string, unknown>, weights: number[], seed = 1, health?: HealthConfig): Balancer {
  const b = new Balancer({ balancer: BalancerSchema.parse({ panicThresholdPercent: 0, ...cfg }), health, rng: rngStream(seed, 'balancer') });
  weights.forEach((w, i) => b.add(`s${i + 1}`, { weight: w, nowMs: 0, initial: true }));
  return b;
}

export const OK: AttemptOutcome = { kind: 'response', status: 200 };

/** One attempt at `nowMs` that ends at once with `outcome`; the server, or undefined when none was picked. */
export function one(b: Balancer, nowMs: number, outcome: AttemptOutcome = OK, hashKey?: string, exclude?: Set<string>): string | undefined {
  const be = b.pick({ nowMs, hashKey, exclude });
  if (!be) return undefined;
  b.attemptStarted(be, nowMs);
  b.attemptEnded(be, nowMs, 0, outcome);
  return be.id;
}

/** `n` requests 1 ms apart, each answered 200 before the next starts; request i hashes `key(i)`, avoiding `exclude(i)`. */
export function sequential(b: Balancer, n: number, key: (i: number) => string | undefined = () => undefined, exclude?: (i: number) => Set<string>): string[] {
  return Array.from({ length: n }, (_, i) => {
    const id = one(b, i, OK, key(i), exclude?.(i));
    if (id === undefined) throw new Error(`request ${i}: no server picked`);
    return id;
  });
}

/** How often each id stands in `ids` ('none' for undefined). */
export function counts(ids: readonly (string | undefined)[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const id of ids) c[id ?? 'none'] = (c[id ?? 'none'] ?? 0) + 1;
  return c;
}
