// Consistent hashing on a ring (Karger et al. 1997; libketama; Envoy RING_HASH; NGINX
// `hash $key consistent`). Each backend owns round(vnodes × weight) points, at least one;
// a key belongs to the first point clockwise from its hash. Adding or removing a backend
// only moves the keys on the arcs it gains or loses: about 1/n of them, never others.
//
// `{ slots: 512, vnodes: 9 }` reproduces the common CLB layout: a discrete ring of 512
// slots, each backend placing 9 virtual nodes, collisions resolved by linear probing, key
// → slot hash(key) mod 512. It uses murmur3 where the assignment used its quadratic probe
// functions, so the layout (and its coarse balance) is the same, not the exact slots.
//
// Tables are built from `weight`, not `effectiveWeight`: they are rebuilt only when
// membership or weights change, so slow start does not apply (as in Envoy, where slow
// start exists only for round robin and least request).
import { z } from 'zod';
import type { Backend, Candidates, PickContext, PickTrace, Policy } from '../types.ts';
import { definePolicy } from './define.ts';
import { keyHashOf, pickByModulo } from './hashing.ts';
import { Ring, type RingOptions, vnodesOption } from './ring.ts';
import { lookup } from './table.ts';

export class RingHash implements Policy {
  readonly name = 'ring-hash';
  private ring: Ring;

  constructor(private readonly opts: RingOptions = {}) {
    this.ring = Ring.build([], opts);
  }

  setMembers(members: readonly Backend[]): void {
    this.ring = Ring.build(members, this.opts);
  }

  pick(c: Candidates, ctx: PickContext, trace?: PickTrace): Backend {
    const h = keyHashOf(ctx.hashKey);
    return lookup(this.ring, c, h, trace) ?? pickByModulo(c, h);
  }
}

export const ringHash = definePolicy({
  name: 'ring-hash',
  options: {
    /** `clb-512x9` = 512 slots × 9 vnodes, the common CLB layout (vnodes then does not apply). */
    ringPreset: z.enum(['ketama', 'clb-512x9']).default('ketama'),
    vnodes: vnodesOption,
  },
  traits: { hashKey: true, liveWeights: false },
  create: (o) => new RingHash(o.ringPreset === 'clb-512x9' ? { slots: 512, vnodes: 9 } : { vnodes: o.vnodes }),
});
