// HAProxy's weighted map (src/lb_map.c), shared by `balance static-rr` and `balance source`
// with `hash-type map-based`. Weights are divided by their greatest common divisor
// (init_server_map, over every declared server) and the map holds one slot per remaining
// unit of weight, filled by recalc_server_map: each slot goes to the usable server whose
// running score (+eweight per slot, −total when chosen) is highest, the first declared
// winning ties. The map is rebuilt whenever a server goes up or down; weight changes at
// run time and slow start are ignored (the algorithms are static).
import type { Backend } from '../types.ts';
import { HaproxyLb, type HaproxyServer, hasRoom } from './haproxy-lb.ts';

export interface MapServer extends HaproxyServer {
  wscore: number;
}

export abstract class HaproxyMap extends HaproxyLb<MapServer> {
  /** The slots (px->lbprm.map.srv); its length is the usable total weight. */
  protected map: MapServer[] = [];
  /** wmult: the GCD of the configured weights, fixed at start. */
  private gcd = 1;
  /** The round-robin cursor (lbprm.map.rr_idx). */
  private rrIdx = 0;

  /** next_eweight = ceil(uweight / wmult) with wdiv 1 (init_server_map). */
  protected eweightOf(b: Backend): number {
    return Math.ceil(Math.round(b.weight) / this.gcd);
  }

  protected newServer(backend: Backend, puid: number): MapServer {
    return { backend, puid, usable: false, curEweight: 0, nextEweight: 0, wscore: 0 };
  }

  protected init(): void {
    let g = 0;
    for (const s of this.ordered) g = gcd(g, Math.round(s.backend.weight));
    this.gcd = Math.max(1, g);
    for (const s of this.ordered) s.curEweight = s.nextEweight = this.eweightOf(s.backend);
    this.recalc();
  }

  protected serverUp(): void { this.recalc(); }
  protected serverDown(s: MapServer): void { s.usable = false; this.recalc(); }
  /**
   * Static: HAProxy refuses runtime weights other than 0 % and 100 % for these algorithms
   * (server_parse_weight_change_request), and slow start does not apply, so keep the weight.
   */
  protected weightChanged(s: MapServer): void { s.nextEweight = s.curEweight; }

  /**
   * map_get_server_rr: a cursor walks the map; a full server (maxconn) is skipped, and one to
   * avoid (a redispatch's previous server) is taken only when nothing else has room.
   * undefined when every server is full: HAProxy queues the request.
   */
  protected nextInMap(avoid: ReadonlySet<MapServer>, maxconn: number | undefined): MapServer | undefined {
    const tot = this.map.length;
    if (tot === 0) return undefined;
    if (this.rrIdx < 0 || this.rrIdx >= tot) this.rrIdx = 0;
    let newIdx = this.rrIdx;
    let avoided: MapServer | undefined;
    let avoidedIdx = 0;
    do {
      const srv = this.map[newIdx++];
      if (hasRoom(srv, maxconn)) {
        avoided = srv;
        avoidedIdx = newIdx;
        if (!avoid.has(srv)) { this.rrIdx = newIdx; return srv; }
      }
      if (newIdx === tot) newIdx = 0;
    } while (newIdx !== this.rrIdx);
    if (avoided) this.rrIdx = avoidedIdx;
    return avoided;
  }

  /** recalc_server_map. */
  private recalc(): void {
    const usable = this.usableServers();
    const tot = usable.reduce((sum, s) => sum + s.nextEweight, 0);
    this.map = [];
    if (tot === 0) return;
    for (const s of this.ordered) s.wscore = 0;
    for (let o = 0; o < tot; o++) {
      let best: MapServer | undefined;
      let max = 0;
      for (const s of usable) {
        if (tot === 1) { best = s; break; }
        s.wscore += s.nextEweight;
        const v = Math.floor((s.wscore + tot) / tot);
        if (best === undefined || v > max) { max = v; best = s; }
      }
      this.map.push(best!);
      if (tot !== 1) best!.wscore -= tot;
    }
  }
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
