// HAProxy `balance static-rr`: round robin over the weighted map (src/lb_map.c
// map_get_server_rr, HaproxyMap.nextInMap).
import type { PickContext } from '../types.ts';
import { definePolicy } from './define.ts';
import { HaproxyMap, type MapServer } from './haproxy-map.ts';
import { maxconnOption } from './haproxy-options.ts';

export class HaproxyStaticRr extends HaproxyMap {
  readonly name = 'haproxy-static-rr';

  constructor(private readonly maxconn?: number) { super(); }

  protected choose(_ctx: PickContext, avoid: ReadonlySet<MapServer>): MapServer | undefined {
    return this.nextInMap(avoid, this.maxconn);
  }
}

export const haproxyStaticRr = definePolicy({
  name: 'haproxy-static-rr',
  options: { maxconn: maxconnOption },
  traits: { hashKey: false, liveWeights: false, avoidsExcluded: true },
  create: (o) => new HaproxyStaticRr(o.maxconn),
});
