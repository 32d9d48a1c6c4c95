// HAProxy's consistent-hash tree (src/lb_chash.c), shared by `balance source` with
// `hash-type consistent` and by `balance random`. Each server owns eweight points (weight ×
// 16, fewer during slow start) at keys full_hash(puid × 4096 + j), j = 0 … eweight−1
// (chash_init_server_tree, chash_queue_dequeue_srv). A hash goes to the nearer of the point
// at or after it and the point before it, ties to the one before (chash_get_server_hash);
// the server to avoid and, with hash-balance-factor, servers over their bounded share are
// skipped by walking on (chash_server_is_eligible).
import type { Backend } from '../types.ts';
import { EbTree } from './haproxy-tree.ts';
import { HaproxyLb, type HaproxyServer, SRV_EWGHT_MAX, dynamicEweight } from './haproxy-lb.ts';
import { fullHash } from './haproxy-hash.ts';

export interface ChashServer extends HaproxyServer {
  /** Points in the tree now (lb_nodes_now). */
  pointsNow: number;
  /** Sum of the eweights of the usable servers before it, as of the last recount (start-up only in chash). */
  cumulativeWeight: number;
}

export abstract class HaproxyChash extends HaproxyLb<ChashServer> {
  protected readonly tree = new EbTree<ChashServer>();
  /** Usable total eweight (tot_weight). */
  protected totWeight = 0;
  /** Round-robin cursor over the tree (lbprm.chash.last) for requests without a key. */
  private last: number | undefined;

  /** @param balanceFactor hash-balance-factor in percent; 0 = off. */
  constructor(protected readonly balanceFactor: number) { super(); }

  protected eweightOf(b: Backend): number { return dynamicEweight(b); }

  protected newServer(backend: Backend, puid: number): ChashServer {
    return { backend, puid, usable: false, curEweight: 0, nextEweight: 0, pointsNow: 0, cumulativeWeight: 0 };
  }

  protected init(): void {
    let cumulative = 0;
    for (const s of this.usableServers()) {
      s.cumulativeWeight = cumulative; // recount_servers
      cumulative += s.nextEweight;
      this.setPoints(s, s.nextEweight);
    }
    this.totWeight = cumulative;
  }

  protected serverUp(s: ChashServer): void {
    this.totWeight += s.nextEweight;
    this.setPoints(s, s.nextEweight);
  }

  protected serverDown(s: ChashServer): void {
    this.totWeight -= s.curEweight;
    this.setPoints(s, 0);
  }

  protected weightChanged(s: ChashServer): void {
    this.setPoints(s, s.nextEweight);
    this.totWeight += s.nextEweight - s.curEweight;
  }

  /** chash_queue_dequeue_srv: the server's points 0 … n−1 are in the tree (fewer: the last ones go). */
  private setPoints(s: ChashServer, n: number): void {
    if (n < s.pointsNow) {
      while (this.tree.delete(s));
      s.pointsNow = 0;
    }
    // HAProxy 2.6 computes an added server's points before giving it its id (puid 0 then), as
    // measured on the 2.6.12 binary: every server added by `add server` shares the keys full_hash(j).
    const puid = s.dynamic ? 0 : s.puid;
    for (; s.pointsNow < n; s.pointsNow++) this.tree.insert(pointKey(puid, s.pointsNow), s);
    this.last = undefined;
  }

  /** chash_get_server_hash. */
  protected byHash(hash: number, avoid: ReadonlySet<ChashServer>): ChashServer | undefined {
    const size = this.tree.size;
    if (size === 0) return undefined;
    const h = hash >>> 0;
    let nextIdx = this.tree.lowerBound(h);
    if (nextIdx === size) nextIdx = 0;
    const prevIdx = nextIdx === 0 ? size - 1 : nextIdx - 1;
    const dp = (h - this.tree.keyAt(prevIdx)) >>> 0;
    const dn = (this.tree.keyAt(nextIdx) - h) >>> 0;
    let idx = dp <= dn ? prevIdx : nextIdx;
    let srv = this.tree.itemAt(idx);
    let loop = 0;
    while (avoid.has(srv) || (this.balanceFactor && !this.eligible(srv))) {
      idx++;
      if (idx === size) {
        idx = 0;
        if (++loop > 1) break;
      }
      srv = this.tree.itemAt(idx);
    }
    return srv;
  }

  /** chash_get_next_server: round robin over the points (the no-key fallback). */
  protected nextInTree(avoid: ReadonlySet<ChashServer>): ChashServer | undefined {
    const size = this.tree.size;
    if (size === 0) return undefined;
    const start = this.last === undefined ? 0 : (this.last + 1) % size;
    let avoided: number | undefined;
    for (let i = 0; i < size; i++) {
      const idx = (start + i) % size;
      const s = this.tree.itemAt(idx);
      if (!avoid.has(s)) { this.last = idx; return s; }
      avoided ??= idx;
    }
    this.last = avoided;
    return avoided === undefined ? undefined : this.tree.itemAt(avoided);
  }

  /** chash_server_is_eligible: bounded load over requests being served by the backend. */
  private eligible(s: ChashServer): boolean {
    let served = 0;
    for (const x of this.ordered) served += x.backend.inFlight;
    const totSlots = Math.floor(((served + 1) * this.balanceFactor + 99) / 100);
    const perWeight = Math.floor(totSlots / this.totWeight);
    const remainder = totSlots % this.totWeight;
    let slots = s.curEweight * perWeight;
    slots += Math.floor(((s.cumulativeWeight + s.curEweight) * remainder) / this.totWeight)
      - Math.floor((s.cumulativeWeight * remainder) / this.totWeight);
    if (slots === 0) slots = 1;
    return s.backend.inFlight < slots;
  }
}

/** A server's j-th point: full_hash(puid × SRV_EWGHT_RANGE + j). */
export function pointKey(puid: number, j: number): number {
  return fullHash(puid * (SRV_EWGHT_MAX) + j);
}

