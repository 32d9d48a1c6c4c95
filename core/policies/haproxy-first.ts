// HAProxy `balance first` (src/lb_fas.c): servers in id order (the tree key is the puid);
// each pick takes the first server with room under its maxconn, so a farm fills server by
// server and the last ones can be switched off when idle. Without maxconn the first usable
// server takes everything. Weights play no part.
import type { Backend, PickContext } from '../types.ts';
import { definePolicy } from './define.ts';
import { HaproxyLb, type HaproxyServer, dynamicEweight, hasRoom } from './haproxy-lb.ts';
import { maxconnOption } from './haproxy-options.ts';

export class HaproxyFirst extends HaproxyLb<HaproxyServer> {
  readonly name = 'haproxy-first';

  constructor(private readonly maxconn?: number) { super(); }

  protected eweightOf(b: Backend): number { return dynamicEweight(b); }
  protected newServer(backend: Backend, puid: number): HaproxyServer {
    return { backend, puid, usable: false, curEweight: 0, nextEweight: 0 };
  }
  protected init(): void {}
  protected serverUp(): void {}
  protected serverDown(): void {}
  protected weightChanged(): void {}

  /** fas_get_next_server. */
  protected choose(_ctx: PickContext, avoid: ReadonlySet<HaproxyServer>): HaproxyServer | undefined {
    let avoided: HaproxyServer | undefined;
    for (const s of this.ordered) {
      if (!s.usable || !hasRoom(s, this.maxconn)) continue;
      if (!avoid.has(s)) return s;
      avoided = s;
    }
    return avoided; // undefined when every server is full: HAProxy queues the request
  }
}

export const haproxyFirst = definePolicy({
  name: 'haproxy-first',
  options: { maxconn: maxconnOption },
  traits: { hashKey: false, liveWeights: false, avoidsExcluded: true },
  create: (o) => new HaproxyFirst(o.maxconn),
});
