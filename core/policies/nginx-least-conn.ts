// NGINX `least_conn`: ngx_http_upstream_get_least_conn_peer in
// src/http/modules/ngx_http_upstream_least_conn_module.c (release-1.22.1). The usable peer
// with the fewest conns per configured weight wins (compared as conns × weight products);
// when several share that lowest ratio, a smooth weighted round-robin pass over just those
// peers, starting at the first of them, decides.
import type { PickContext } from '../types.ts';
import { definePolicy } from './define.ts';
import { type NginxPeer, NginxUpstream, type PickView, nginxPeerOptions } from './nginx-upstream.ts';

export class NginxLeastConn extends NginxUpstream {
  readonly name = 'nginx-least-conn';

  protected get(view: PickView, _ctx: PickContext): NginxPeer | undefined {
    let best: NginxPeer | undefined;
    let many = false;
    for (const peer of this.peers) {
      if (!this.usable(peer, view)) continue;
      if (!best || peer.conns * best.weight < best.conns * peer.weight) {
        best = peer;
        many = false;
      } else if (peer.conns * best.weight === best.conns * peer.weight) {
        many = true;
      }
    }
    if (!best) return undefined;
    if (!many) return this.chosen(best, view);
    const lowest = best;
    return this.smoothPass(view, lowest.index, (p) => p.conns * lowest.weight === lowest.conns * p.weight);
  }
}

export const nginxLeastConn = definePolicy({
  name: 'nginx-least-conn',
  options: nginxPeerOptions,
  traits: { hashKey: false, liveWeights: false, avoidsExcluded: true },
  create: (o) => new NginxLeastConn(o),
});
