// HAProxy `balance leastconn` (src/lb_fwlc.c): servers sit in a tree keyed by
// (inflight + 1) × 4096 / eweight, or 0 when idle (fwlc_queue_srv), and each pick takes the
// first server with room (fwlc_get_next_server). A server is re-keyed when it takes or drops
// a connection (fwlc_srv_reposition) — and re-inserted after the servers already holding
// that key — so idle identical servers take sequential requests in turn: a rotation that
// comes from the tree's insertion order, not from a cursor.
import type { Backend, PickContext } from '../types.ts';
import { definePolicy } from './define.ts';
import { EbTree } from './haproxy-tree.ts';
import { HaproxyLb, type HaproxyServer, SRV_EWGHT_MAX, dynamicEweight } from './haproxy-lb.ts';
import { maxconnOption } from './haproxy-options.ts';

interface FwlcServer extends HaproxyServer {
  key: number;
  inTree: boolean;
}

export class HaproxyLeastconn extends HaproxyLb<FwlcServer> {
  readonly name = 'haproxy-leastconn';
  private readonly tree = new EbTree<FwlcServer>();

  constructor(private readonly maxconn?: number) { super(); }

  protected eweightOf(b: Backend): number { return dynamicEweight(b); }

  protected newServer(backend: Backend, puid: number): FwlcServer {
    return { backend, puid, usable: false, curEweight: 0, nextEweight: 0, key: 0, inTree: false };
  }

  protected init(): void {
    for (const s of this.usableServers()) this.queue(s, s.nextEweight);
  }

  protected serverUp(s: FwlcServer): void { this.queue(s, s.nextEweight); }
  protected serverDown(s: FwlcServer): void { this.dequeue(s); }
  protected weightChanged(s: FwlcServer): void { this.dequeue(s); this.queue(s, s.nextEweight); }

  protected choose(_ctx: PickContext, avoid: ReadonlySet<FwlcServer>): FwlcServer | undefined {
    let avoided: FwlcServer | undefined;
    for (const s of this.tree.items()) {
      // fwlc admits a server while served + queued < maxconn + maxqueue (no maxqueue here).
      if (this.maxconn === undefined || s.backend.inFlight < this.maxconn) {
        if (!avoid.has(s)) return s;
        avoided = s;
      }
    }
    return avoided; // undefined when every server is full: HAProxy queues the request
  }

  onAttemptStart(b: Backend): void { this.reposition(b); }
  onAttemptEnd(b: Backend): void { this.reposition(b); }

  /** fwlc_srv_reposition: re-key only when the key changes. */
  private reposition(b: Backend): void {
    const s = this.servers.get(b);
    if (!s || !s.inTree) return;
    const eweight = s.curEweight || 1;
    if (keyOf(b.inFlight, eweight) === s.key) return;
    this.dequeue(s);
    this.queue(s, eweight);
  }

  private queue(s: FwlcServer, eweight: number): void {
    s.key = keyOf(s.backend.inFlight, eweight);
    this.tree.insert(s.key, s);
    s.inTree = true;
  }

  private dequeue(s: FwlcServer): void {
    this.tree.delete(s);
    s.inTree = false;
  }
}

function keyOf(inflight: number, eweight: number): number {
  return inflight ? Math.floor(((inflight + 1) * SRV_EWGHT_MAX) / eweight) : 0;
}

export const haproxyLeastconn = definePolicy({
  name: 'haproxy-leastconn',
  options: { maxconn: maxconnOption },
  traits: { hashKey: false, liveWeights: true, avoidsExcluded: true },
  create: (o) => new HaproxyLeastconn(o.maxconn),
});
