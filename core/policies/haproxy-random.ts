// HAProxy `balance random(<draws>)` (src/backend.c get_server_rnd over lb_chash.c): each
// draw is a random 32-bit key looked up in the consistent-hash tree (so weights and
// hash-balance-factor apply); of the servers drawn, the one with fewer requests being
// served per unit of eweight wins, the earlier draw on ties. HAProxy draws from its own
// per-thread PRNG; the model draws from the balancer's seeded stream, so counts match in
// distribution, not request by request.
import { z } from 'zod';
import type { PickContext, Rng } from '../types.ts';
import { definePolicy } from './define.ts';
import { type ChashServer, HaproxyChash } from './haproxy-chash.ts';

export class HaproxyRandom extends HaproxyChash {
  readonly name = 'haproxy-random';

  constructor(private readonly rng: Rng, private readonly draws: number, balanceFactor: number) {
    super(balanceFactor);
  }

  protected choose(_ctx: PickContext, avoid: ReadonlySet<ChashServer>): ChashServer | undefined {
    if (this.totWeight === 0) return undefined;
    let curr: ChashServer | undefined;
    for (let d = 0; d < this.draws; d++) {
      const prev = curr;
      curr = this.byHash(Math.floor(this.rng() * 2 ** 32), avoid);
      if (!curr) break;
      if (prev && prev !== curr && curr.backend.inFlight * prev.curEweight > prev.backend.inFlight * curr.curEweight) curr = prev;
    }
    return curr;
  }
}

export const haproxyRandom = definePolicy({
  name: 'haproxy-random',
  options: {
    /** Draws per pick: random(2) = power of two choices (HAProxy's default). */
    draws: z.number().int().min(1).max(100).default(2),
    /** `hash-balance-factor` in percent; 0 = off. */
    hashBalanceFactor: z.number().int().min(0).max(100_000).default(0),
  },
  traits: { hashKey: false, liveWeights: true, avoidsExcluded: true },
  create: (o, rng) => new HaproxyRandom(rng, o.draws, o.hashBalanceFactor),
});
