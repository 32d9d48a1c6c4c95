// NGINX `hash $remote_addr [consistent]`: src/http/modules/ngx_http_upstream_hash_module.c
// (release-1.22.1). The key is the client address as text.
// - Plain (ngx_http_upstream_get_hash_peer): hash += (crc32([rehash] key) >> 16) & 0x7fff,
//   the server is the one `hash mod total weight` falls on by configured weight; an unusable
//   one rehashes with the draw count prefixed to the key.
// - consistent (ngx_http_upstream_init_chash, ..._find_chash_point, ..._get_chash_peer):
//   160 ketama points per unit of weight, point j of a server = crc32(HOST "\0" PORT prev),
//   prev being point j−1's value as 4 little-endian bytes (0 for the first); for
//   `unix:PATH` HOST is PATH and PORT empty. The names are the servers *as written in the
//   config*, so the points depend on them: `serverName` says how each server is written
//   (`{id}` stands for its id). A request starts at the first point ≥ crc32(key) and walks on
//   point by point past servers it cannot use.
// Both give up after 20 unusable draws per request and fall back to round robin.
import { z } from 'zod';
import type { PickContext } from '../types.ts';
import { definePolicy } from './define.ts';
import { NGINX_HASH_TRIES, type NginxPeer, NginxUpstream, type NginxPeerOptions, type PickView, nginxPeerOptions } from './nginx-upstream.ts';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** ngx_crc32_update: CRC-32 (IEEE) of more bytes, from a running value that started at 0xffffffff. */
function crc32Update(crc: number, bytes: ArrayLike<number>): number {
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return crc >>> 0;
}

const CRC_INIT = 0xffffffff;
const crc32Final = (crc: number): number => (crc ^ 0xffffffff) >>> 0;
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/** ngx_crc32_long: the CRC-32 of `text`'s bytes. */
export function crc32(text: string): number {
  return crc32Final(crc32Update(CRC_INIT, ascii(text)));
}

interface Point { hash: number; peer: NginxPeer }

/** The ketama points of one server named `name` with `weight` (ngx_http_upstream_init_chash). */
export function chashPoints(name: string, weight: number): number[] {
  let host = name;
  let port = '';
  if (name.slice(0, 5).toLowerCase() === 'unix:') host = name.slice(5);
  else {
    const m = /^(.*):(\d*)$/.exec(name);
    if (m) { host = m[1]; port = m[2]; }
  }
  const base = crc32Update(crc32Update(crc32Update(CRC_INIT, ascii(host)), [0]), ascii(port));
  const points: number[] = [];
  const prev = new Uint8Array(4);
  for (let j = 0; j < weight * 160; j++) {
    const hash = crc32Final(crc32Update(base, prev));
    points.push(hash);
    prev[0] = hash & 0xff; prev[1] = (hash >>> 8) & 0xff; prev[2] = (hash >>> 16) & 0xff; prev[3] = hash >>> 24;
  }
  return points;
}

interface HashWalk { hash: number; rehash: number; tries: number }

export class NginxHash extends NginxUpstream {
  readonly name = 'nginx-hash';
  private readonly walks = new WeakMap<object, HashWalk>();
  private points: Point[] = [];

  constructor(opts: NginxPeerOptions, private readonly consistent: boolean, private readonly serverName: string) { super(opts); }

  protected override configured(): void {
    if (!this.consistent) return;
    const all: Point[] = [];
    for (const peer of this.peers) {
      for (const hash of chashPoints(this.serverName.replaceAll('{id}', peer.backend.id), peer.weight)) all.push({ hash, peer });
    }
    all.sort((a, b) => a.hash - b.hash);
    this.points = all.filter((p, i) => i === 0 || p.hash !== all[i - 1].hash); // equal points: the first stays
  }

  protected get(view: PickView, ctx: PickContext): NginxPeer | undefined {
    const key = ctx.hashKey ?? '';
    const walk = this.walkOf(ctx, key);
    if (walk.tries > NGINX_HASH_TRIES || key.length === 0) return this.smoothPass(view);
    return this.consistent ? this.getConsistent(view, walk) : this.getPlain(view, walk, key);
  }

  private getPlain(view: PickView, walk: HashWalk, key: string): NginxPeer | undefined {
    for (;;) {
      let crc = CRC_INIT;
      if (walk.rehash > 0) crc = crc32Update(crc, ascii(String(walk.rehash)));
      crc = crc32Final(crc32Update(crc, ascii(key)));
      walk.hash += (crc >>> 16) & 0x7fff;
      walk.rehash++;
      const peer = this.peerAtWeight(walk.hash % this.totalWeight);
      if (this.usable(peer, view)) return this.chosen(peer, view);
      if (++walk.tries > NGINX_HASH_TRIES) return this.smoothPass(view);
    }
  }

  private getConsistent(view: PickView, walk: HashWalk): NginxPeer | undefined {
    for (;;) {
      const server = this.points[walk.hash % this.points.length].peer;
      const best = this.smoothPass(view, server.index, (p) => p === server);
      if (best) return best;
      walk.hash++;
      if (++walk.tries > NGINX_HASH_TRIES) return this.smoothPass(view);
    }
  }

  private walkOf(ctx: PickContext, key: string): HashWalk {
    let walk = ctx.request && ctx.attempt ? this.walks.get(ctx.request) : undefined;
    if (!walk) {
      walk = { hash: this.consistent ? this.firstPoint(crc32(key)) : 0, rehash: 0, tries: 0 };
      if (ctx.request) this.walks.set(ctx.request, walk);
    }
    return walk;
  }

  /** ngx_http_upstream_find_chash_point: the first point ≥ hash (may be one past the end). */
  private firstPoint(hash: number): number {
    let i = 0;
    let j = this.points.length;
    while (i < j) {
      const k = (i + j) >> 1;
      if (hash > this.points[k].hash) i = k + 1;
      else if (hash < this.points[k].hash) j = k;
      else return k;
    }
    return i;
  }
}

export const nginxHash = definePolicy({
  name: 'nginx-hash',
  options: {
    ...nginxPeerOptions,
    /** `consistent`: ketama points instead of hash mod total weight. */
    consistent: z.boolean().default(false),
    /** How each server is written in the upstream block; `{id}` is its id (the points hash this). */
    serverName: z.string().min(1).default('unix:{id}.sock'),
  },
  traits: { hashKey: true, liveWeights: false, avoidsExcluded: true },
  create: (o) => new NginxHash(o, o.consistent, o.serverName),
});
