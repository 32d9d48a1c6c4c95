// NGINX's default method (no balancing directive): smooth weighted round robin,
// ngx_http_upstream_get_round_robin_peer / ngx_http_upstream_get_peer in
// src/http/ngx_http_upstream_round_robin.c (release-1.22.1). Weights 5 1 1 give
// a a b a c a a; a failed server's effective weight drops by weight / max_fails and climbs
// back by one per pass it takes part in.
import type { PickContext } from '../types.ts';
import { definePolicy } from './define.ts';
import { type NginxPeer, NginxUpstream, type PickView, nginxPeerOptions } from './nginx-upstream.ts';

export class NginxRoundRobin extends NginxUpstream {
  readonly name = 'nginx-round-robin';

  protected get(view: PickView, _ctx: PickContext): NginxPeer | undefined {
    return this.smoothPass(view);
  }
}

export const nginxRoundRobin = definePolicy({
  name: 'nginx-round-robin',
  options: nginxPeerOptions,
  traits: { hashKey: false, liveWeights: false, avoidsExcluded: true },
  create: (o) => new NginxRoundRobin(o),
});
