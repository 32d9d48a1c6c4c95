// The experiment's `balancers` section: how many independent balancer instances stand in
// front of the servers, and which one each request reaches. Production traffic rarely
// crosses one balancer: Envoy balances per worker thread, NGINX per worker process without
// a shared `zone`, and HAProxy or NGINX fleets sit behind DNS or ECMP. Each instance sees
// only its own traffic, so load-aware policies decide on partial views.
// Both engines call `reachOf` with the same (arrival id, client), so a request reaches the
// same instance in the simulator and live, whatever order the arrivals are handled in.
import { z } from 'zod';
import { murmur3Pair } from '../core/hash.ts';

export const REACH = ['client-hash', 'random', 'round-robin'] as const;
export type Reach = (typeof REACH)[number];

export const BalancersSchema = z.strictObject({
  /** Independent instances, each with its own balancer state, health view and outlier state. */
  count: z.number().int().min(1).max(64),
  /**
   * client-hash: a client always reaches the same instance (ECMP, sticky DNS);
   * random: each request picks one at random (a new connection through a random DNS answer);
   * round-robin: request i reaches instance i mod count (a round-robin DNS or L4 balancer).
   */
  reach: z.enum(REACH).default('client-hash'),
  /** What the instances share: nothing (no shared zone, no gossip). The only value so far. */
  share: z.enum(['nothing']).default('nothing'),
});
export type BalancersConfig = z.infer<typeof BalancersSchema>;

/** One balancer, as every experiment had before the field existed. */
export const ONE_BALANCER: BalancersConfig = { count: 1, reach: 'client-hash', share: 'nothing' };

/** The instance (0 … count-1) a request reaches: a pure function of the run's seed, the arrival id and the client. */
export function reachOf(cfg: BalancersConfig, seed: number): (id: number, client: number) => number {
  const n = cfg.count;
  if (n === 1) return () => 0;
  switch (cfg.reach) {
    // A fixed hash, independent of the seed: as a router hashes addresses.
    case 'client-hash': return (_id, client) => murmur3Pair(client, 0) % n;
    // Hashing (seed, id) rather than drawing in order: a closed loop answers in a different order live.
    case 'random': return (id) => murmur3Pair(id, 1, seed) % n;
    case 'round-robin': return (id) => id % n;
  }
}

