// HAProxy `balance static-rr`: round robin over the weighted map (src/lb_map.c
// map_get_server_rr). A cursor walks the map; a saturated server (maxconn) is skipped, and
// the server to avoid (a redispatch's previous server) is taken only when nothing else is.
import type { PickContext } from '../types.ts';
import { definePolicy } from './define.ts';
import { HaproxyMap, type MapServer } from './haproxy-map.ts';
import { hasRoom } from './haproxy-lb.ts';
import { maxconnOption } from './haproxy-options.ts';

export class HaproxyStaticRr extends HaproxyMap {
  readonly name = 'haproxy-static-rr';
  private rrIdx = 0;

  constructor(private readonly maxconn?: number) { super(); }

  protected choose(_ctx: PickContext, avoid: ReadonlySet<MapServer>): MapServer | undefined {
    const tot = this.map.length;
    if (tot === 0) return undefined;
    if (this.rrIdx < 0 || this.rrIdx >= tot) this.rrIdx = 0;
    let newIdx = this.rrIdx;
    let avoided: MapServer | undefined;
    let avoidedIdx = 0;
    do {
      const srv = this.map[newIdx++];
      if (hasRoom(srv, this.maxconn)) {
        avoided = srv;
        avoidedIdx = newIdx;
        if (!avoid.has(srv)) { this.rrIdx = newIdx; return srv; }
      }
      if (newIdx === tot) newIdx = 0;
    } while (newIdx !== this.rrIdx);
    if (avoided) { this.rrIdx = avoidedIdx; return avoided; }
    return undefined; // every server is full: HAProxy queues the request
  }
}

export const haproxyStaticRr = definePolicy({
  name: 'haproxy-static-rr',
  options: { maxconn: maxconnOption },
  traits: { hashKey: false, liveWeights: false, avoidsExcluded: true },
  create: (o) => new HaproxyStaticRr(o.maxconn),
});
