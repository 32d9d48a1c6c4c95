// NGINX `random [two [least_conn]]`: ngx_http_upstream_get_random_peer,
// ngx_http_upstream_get_random2_peer and ngx_http_upstream_peek_random_peer in
// src/http/modules/ngx_http_upstream_random_module.c (release-1.22.1). A draw is a server
// chosen with probability weight / total weight (peek: ngx_random() mod total weight, found
// in the cumulative ranges). `two`: a second, different usable server is drawn and the one
// with fewer conns per weight wins — the second on a tie. Unusable draws count towards 20,
// then round robin. ngx_random() cannot be reproduced: the draws come from the balancer's
// seeded stream, so counts match NGINX in distribution only.
import { z } from 'zod';
import type { PickContext, Rng } from '../types.ts';
import { definePolicy } from './define.ts';
import { NGINX_HASH_TRIES, type NginxPeer, NginxUpstream, type NginxPeerOptions, type PickView, nginxPeerOptions } from './nginx-upstream.ts';

export class NginxRandom extends NginxUpstream {
  readonly name = 'nginx-random';

  constructor(opts: NginxPeerOptions, private readonly two: boolean, private readonly rng: Rng) { super(opts); }

  protected get(view: PickView, _ctx: PickContext): NginxPeer | undefined {
    let tries = 0;
    let first: NginxPeer | undefined;
    for (;;) {
      const peer = this.peerAtWeight(Math.floor(this.rng() * this.totalWeight));
      if (peer !== first && this.usable(peer, view)) {
        if (!this.two) return this.chosen(peer, view);
        if (first) return this.chosen(peer.conns * first.weight > first.conns * peer.weight ? first : peer, view);
        first = peer;
      }
      if (++tries > NGINX_HASH_TRIES) return this.smoothPass(view);
    }
  }
}

export const nginxRandom = definePolicy({
  name: 'nginx-random',
  options: {
    ...nginxPeerOptions,
    /** `two least_conn`: the less loaded of two draws. */
    two: z.boolean().default(false),
  },
  traits: { hashKey: false, liveWeights: false, avoidsExcluded: true },
  create: (o, rng) => new NginxRandom(o, o.two, rng),
});
