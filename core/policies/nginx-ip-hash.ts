// NGINX `ip_hash`: ngx_http_upstream_init_ip_hash_peer and ngx_http_upstream_get_ip_hash_peer
// in src/http/modules/ngx_http_upstream_ip_hash_module.c (release-1.22.1). For IPv4 only the
// first THREE octets are hashed (addrlen 3): every client of one /24 — all of 127.0.0.x —
// lands on the same server. hash starts at 89 and takes each byte as
// hash = (hash × 113 + byte) mod 6271; the server is the one `hash mod total weight` falls
// on, walking the servers by configured weight. An unusable server (tried, down, failed)
// rehashes from the last value; after 20 such draws the request falls back to round robin.
// The walk goes on across the tries of one request (iphp->hash and iphp->tries persist).
import type { PickContext } from '../types.ts';
import { definePolicy } from './define.ts';
import { NGINX_HASH_TRIES, type NginxPeer, NginxUpstream, type PickView, nginxPeerOptions } from './nginx-upstream.ts';

interface IpHashWalk { hash: number; tries: number }

/** Clients that are not IPv4 or IPv6 (unix sockets) hash three zero bytes. */
const PSEUDO_ADDR = [0, 0, 0];

/** The bytes ip_hash reads from an address: IPv4's first three, IPv6's sixteen. */
export function ipHashBytes(address: string | undefined): number[] {
  if (address === undefined) return PSEUDO_ADDR;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (v4) return [Number(v4[1]), Number(v4[2]), Number(v4[3])];
  const v6 = ipv6Bytes(address);
  return v6 ?? PSEUDO_ADDR;
}

function ipv6Bytes(address: string): number[] | undefined {
  if (!address.includes(':')) return undefined;
  const [head, tail] = address.split('::');
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  const words = address.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  if (words.length !== 8 || words.some((w) => !/^[0-9a-f]{1,4}$/i.test(w))) return undefined;
  return words.flatMap((w) => { const n = parseInt(w, 16); return [n >> 8, n & 255]; });
}

/** One step of the walk: the address's bytes folded into `hash`. */
export function ipHashStep(hash: number, bytes: readonly number[]): number {
  for (const b of bytes) hash = (hash * 113 + b) % 6271;
  return hash;
}

export class NginxIpHash extends NginxUpstream {
  readonly name = 'nginx-ip-hash';
  private readonly walks = new WeakMap<object, IpHashWalk>();

  protected get(view: PickView, ctx: PickContext): NginxPeer | undefined {
    const walk = this.walkOf(ctx);
    if (walk.tries > NGINX_HASH_TRIES) return this.smoothPass(view);
    const bytes = ipHashBytes(ctx.hashKey);
    let hash = walk.hash;
    for (;;) {
      hash = ipHashStep(hash, bytes);
      const peer = this.peerAtWeight(hash % this.totalWeight);
      if (this.usable(peer, view)) {
        walk.hash = hash;
        return this.chosen(peer, view);
      }
      if (++walk.tries > NGINX_HASH_TRIES) return this.smoothPass(view);
    }
  }

  private walkOf(ctx: PickContext): IpHashWalk {
    const fresh = { hash: 89, tries: 0 };
    if (!ctx.request) return fresh;
    let walk = this.walks.get(ctx.request);
    if (!walk || !ctx.attempt) { walk = fresh; this.walks.set(ctx.request, walk); }
    return walk;
  }
}

export const nginxIpHash = definePolicy({
  name: 'nginx-ip-hash',
  options: nginxPeerOptions,
  traits: { hashKey: true, liveWeights: false, avoidsExcluded: true },
  create: (o) => new NginxIpHash(o),
});
