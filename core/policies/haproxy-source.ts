// HAProxy `balance source` (src/backend.c get_server_sh): the client's IPv4 address as a
// 32-bit word, through full_hash when `avalanche` is set, then either the weighted map
// (`hash-type map-based`, HAProxy's default: slot hash mod total weight, lb_map.c
// map_get_server_hash) or the consistent-hash tree (`hash-type consistent`, lb_chash.c,
// with hash-balance-factor). With a single usable server nothing is hashed (hash 0). The
// hash-type *function* (sdbm, djb2, wt6, crc32) does not take part: get_server_sh never
// calls it. A request without an address falls back to the table's round robin.
import { z } from 'zod';
import type { PickContext } from '../types.ts';
import { definePolicy } from './define.ts';
import { HaproxyMap, type MapServer } from './haproxy-map.ts';
import { type ChashServer, HaproxyChash } from './haproxy-chash.ts';
import { sourceHash } from './haproxy-hash.ts';

export class HaproxySourceMap extends HaproxyMap {
  readonly name = 'haproxy-source';

  constructor(private readonly avalanche: boolean) { super(); }

  protected choose(ctx: PickContext, avoid: ReadonlySet<MapServer>): MapServer | undefined {
    const tot = this.map.length;
    if (tot === 0) return undefined;
    const usable = this.usableServers().length;
    const hash = usable === 1 ? 0 : sourceHash(ctx.hashKey, this.avalanche);
    if (hash !== undefined) return this.map[hash % tot];
    return this.nextInMap(avoid, undefined); // map_get_server_rr, the fallback for a request without an address
  }
}

export class HaproxySourceConsistent extends HaproxyChash {
  readonly name = 'haproxy-source';

  constructor(private readonly avalanche: boolean, balanceFactor: number) { super(balanceFactor); }

  protected choose(ctx: PickContext, avoid: ReadonlySet<ChashServer>): ChashServer | undefined {
    const usable = this.usableServers().length;
    const hash = usable === 1 ? 0 : sourceHash(ctx.hashKey, this.avalanche);
    return (hash === undefined ? undefined : this.byHash(hash, avoid)) ?? this.nextInTree(avoid);
  }
}

export const haproxySource = definePolicy({
  name: 'haproxy-source',
  options: {
    /** `hash-type map-based` (HAProxy's default) or `consistent`. */
    hashMethod: z.enum(['map-based', 'consistent']).default('map-based'),
    /** The `avalanche` modifier (HAProxy's default for `hash-type consistent` without a function). */
    avalanche: z.boolean().default(false),
    /** `hash-balance-factor` in percent (consistent only); 0 = off. */
    hashBalanceFactor: z.number().int().min(0).max(100_000).default(0),
  },
  traits: { hashKey: true, liveWeights: true, avoidsExcluded: true },
  create: (o) => (o.hashMethod === 'consistent'
    ? new HaproxySourceConsistent(o.avalanche, o.hashBalanceFactor)
    : new HaproxySourceMap(o.avalanche)),
});
