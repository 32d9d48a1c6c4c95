// HAProxy `balance roundrobin`: fast weighted round robin, after src/lb_fwrr.c (2.6).
// Servers carry eweight = weight × 16 (BE_WEIGHT_SCALE), so slow start and runtime weight
// changes take effect at once. Three trees per group: `init` (servers not yet placed, by
// decreasing weight), `curr` (servers keyed by their next position `npos` in the current
// window of curr_weight picks) and `next` (servers whose next turn falls in the following
// window). Each pick takes the first of `curr` if its turn has come (npos ≤ curr_pos), else
// the heaviest server of `init`; the chosen server advances by next_weight / eweight
// positions (the remainder accumulates in rweight). When both are empty the trees switch.
// fwrr_get_next_server, fwrr_get_server_from_group, fwrr_update_position, fwrr_queue_srv,
// fwrr_set_server_status_up/down and fwrr_update_server_weight are followed step by step.
// Backup servers do not exist in Fulcrum, so only the active group is modelled.
import type { Backend, PickContext } from '../types.ts';
import { definePolicy } from './define.ts';
import { EbTree } from './haproxy-tree.ts';
import {
  BE_WEIGHT_SCALE, HaproxyLb, type HaproxyServer, SRV_EWGHT_MAX, SRV_UWGHT_RANGE, dynamicEweight, hasRoom,
} from './haproxy-lb.ts';
import { maxconnOption } from './haproxy-options.ts';

interface FwrrServer extends HaproxyServer {
  npos: number;
  lpos: number;
  rweight: number;
  /** The tree the server sits in (lb_tree), or undefined when down. */
  tree: EbTree<FwrrServer> | undefined;
}

export class HaproxyRoundRobin extends HaproxyLb<FwrrServer> {
  readonly name = 'haproxy-roundrobin';
  private currPos = 0;
  private currWeight = 0;
  private nextWeight = 0;
  private readonly curr = new EbTree<FwrrServer>();
  private init_ = new EbTree<FwrrServer>();
  private next = new EbTree<FwrrServer>();

  constructor(private readonly maxconn?: number) { super(); }

  protected eweightOf(b: Backend): number { return dynamicEweight(b); }

  protected newServer(backend: Backend, puid: number): FwrrServer {
    return { backend, puid, usable: false, curEweight: 0, nextEweight: 0, npos: 0, lpos: 0, rweight: 0, tree: undefined };
  }

  /** fwrr_init_server_groups: every usable server into `init`, heaviest first. */
  protected init(): void {
    const total = this.usableServers().reduce((sum, s) => sum + s.nextEweight, 0);
    this.currPos = this.currWeight = this.nextWeight = total;
    for (const s of this.usableServers()) this.queueByWeight(this.init_, s);
  }

  /** fwrr_set_server_status_up: placed after the servers already due in this window. */
  protected serverUp(s: FwrrServer): void {
    this.nextWeight += s.nextEweight;
    this.getSrv(s);
    s.npos = this.currPos + Math.floor((this.nextWeight + this.currWeight - this.currPos) / s.nextEweight);
    this.queueSrv(s);
  }

  /** fwrr_set_server_status_down. */
  protected serverDown(s: FwrrServer): void {
    this.nextWeight -= s.curEweight;
    s.tree?.delete(s);
    s.tree = undefined;
  }

  /** fwrr_update_server_weight, for a server that stays up. */
  protected weightChanged(s: FwrrServer): void {
    this.nextWeight = this.nextWeight - s.curEweight + s.nextEweight;
    if (s.tree === this.init_) {
      s.tree.delete(s);
      this.queueByWeight(this.init_, s);
      return;
    }
    this.getSrv(s);
    const prevNext = s.npos;
    const step = Math.floor(this.nextWeight / s.nextEweight);
    s.npos = s.lpos + step;
    s.rweight = 0;
    if (s.npos > prevNext) s.npos = prevNext;
    if (s.npos < this.currPos + 2) s.npos = this.currPos + step;
    s.tree?.delete(s);
    this.queueSrv(s);
  }

  /** fwrr_get_next_server. */
  protected choose(_ctx: PickContext, avoid: ReadonlySet<FwrrServer>): FwrrServer | undefined {
    if (!this.ordered.some((s) => s.usable)) return undefined;
    let switched = false;
    let avoided: FwrrServer | undefined;
    const full: FwrrServer[] = []; // HAProxy chains them head-first: requeued last-in first
    let srv: FwrrServer | undefined;
    for (;;) {
      if (this.currWeight === 0) this.currPos = this.currWeight = this.nextWeight;
      srv = this.fromGroup();
      if (!srv) {
        if (switched) { srv = avoided; break; }
        switched = true;
        this.switchTrees();
        continue;
      }
      this.updatePosition(srv);
      srv.tree?.delete(srv);
      this.currPos++;
      if (hasRoom(srv, this.maxconn)) {
        if (!avoid.has(srv) || avoided) break;
        avoided = srv;
      }
      full.unshift(srv);
      srv = undefined;
    }
    if (srv) this.queueSrv(srv);
    for (const s of full) {
      if (s === srv) continue;
      if (switched) this.queueByWeight(this.init_, s); else this.queueSrv(s);
    }
    return srv; // undefined when every server is full: HAProxy queues the request
  }

  /** fwrr_get_server_from_group: the first of `curr` if due, else the heaviest of `init`. */
  private fromGroup(): FwrrServer | undefined {
    const s1 = this.curr.first();
    if (s1 && s1.curEweight && s1.npos <= this.currPos) return s1;
    const s2 = this.init_.first();
    if (s2 && s2.curEweight) {
      s2.npos = s2.rweight = 0; // fwrr_get_srv_init
      return s2;
    }
    return s1;
  }

  /** fwrr_update_position. */
  private updatePosition(s: FwrrServer): void {
    const eweight = s.curEweight;
    if (!eweight) return;
    if (!s.npos) s.npos = this.currPos;
    s.lpos = s.npos;
    s.npos += Math.floor(this.nextWeight / eweight);
    s.rweight += this.nextWeight % eweight;
    if (s.rweight >= eweight) { s.rweight -= eweight; s.npos++; }
  }

  /** fwrr_queue_srv: into `curr` by position, or `next` when beyond this window. */
  private queueSrv(s: FwrrServer): void {
    if (!s.usable) { s.tree = undefined; return; }
    if (s.nextEweight <= 0 || s.npos >= 2 * this.currWeight || s.npos >= this.currWeight + this.nextWeight) {
      s.npos -= this.currWeight;
      this.queueByWeight(this.next, s);
      return;
    }
    const key = SRV_UWGHT_RANGE * s.npos + Math.floor((SRV_EWGHT_MAX + s.rweight - s.nextEweight) / BE_WEIGHT_SCALE);
    this.curr.insert(key, s);
    s.tree = this.curr;
  }

  /** fwrr_queue_by_weight: heavier servers first. */
  private queueByWeight(tree: EbTree<FwrrServer>, s: FwrrServer): void {
    tree.insert(SRV_EWGHT_MAX - s.nextEweight, s);
    s.tree = tree;
  }

  /** fwrr_get_srv: position bookkeeping when a server leaves its tree. */
  private getSrv(s: FwrrServer): void {
    if (s.tree === this.init_) { s.npos = s.rweight = 0; }
    else if (s.tree === this.next) s.npos += this.currWeight;
    else if (s.tree === undefined) s.npos = this.currPos;
  }

  /** fwrr_switch_trees: `next` becomes `init` for the new window. */
  private switchTrees(): void {
    [this.init_, this.next] = [this.next, this.init_];
    this.currWeight = this.nextWeight;
    this.currPos = this.currWeight;
  }
}

export const haproxyRoundRobin = definePolicy({
  name: 'haproxy-roundrobin',
  options: { maxconn: maxconnOption },
  traits: { hashKey: false, liveWeights: true, avoidsExcluded: true },
  create: (o) => new HaproxyRoundRobin(o.maxconn),
});
