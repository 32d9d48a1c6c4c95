// A consistent-hash ring as an immutable table (table.ts): built once per membership
// change, then entered by binary search and walked clockwise.
import { z } from 'zod';
import type { Backend } from '../types.ts';
import { murmur3 } from '../hash.ts';
import { sortedById } from './hashing.ts';
import type { HashTable } from './table.ts';

export interface RingOptions {
  /** Points per unit of weight. 160 is libketama's count per server (and NGINX's). */
  vnodes?: number;
  /** A discrete ring of this many slots instead of the continuous 32-bit one (CLB layout). */
  slots?: number;
}

export const DEFAULT_VNODES = 160;
/** The `vnodes` option of the ring policies (ring-hash, bounded-load): points per unit of weight. */
export const vnodesOption = z.number().int().min(1).max(1_000).default(DEFAULT_VNODES);
/** Envoy's default maximum_ring_size: above it, every backend's point count is scaled down. */
const MAX_RING_POINTS = 8_388_608;
/** Points are sorted as position × 2^21 + owner rank in one float64 (exact below 2^53). */
const RANK_SPAN = 2 ** 21;

/** Points of one backend: vnodes × weight, rounded, at least one so every member is reachable. */
function pointsFor(weight: number, vnodes: number): number {
  return Math.max(1, Math.round(vnodes * weight));
}

/** A built ring: ascending point positions and, for each, the owning member. */
export class Ring implements HashTable {
  private constructor(
    /** Members in id order; `owners` indexes this. */
    readonly members: readonly Backend[],
    /** Point positions, ascending: 32-bit hashes, or slot numbers on a slotted ring. */
    readonly points: Uint32Array,
    readonly owners: Int32Array,
    /** 0 for the continuous 32-bit ring. */
    readonly slots: number,
  ) {}

  static build(members: readonly Backend[], o: RingOptions): Ring {
    const vnodes = o.vnodes ?? DEFAULT_VNODES;
    if (!(vnodes >= 1)) throw new Error(`vnodes must be >= 1, got ${vnodes}`);
    const byId = sortedById(members);
    if (byId.length >= RANK_SPAN) throw new Error(`ring: at most ${RANK_SPAN - 1} backends`);
    if (o.slots === undefined) return Ring.continuous(byId, vnodes);
    if (!Number.isInteger(o.slots) || o.slots < 1) throw new Error(`slots must be a positive integer, got ${o.slots}`);
    return Ring.slotted(byId, vnodes, o.slots);
  }

  /** Ketama: every point at murmur3(`id#i`); ties (rare 32-bit collisions) go to the lower id. */
  private static continuous(byId: readonly Backend[], vnodes: number): Ring {
    let counts = byId.map((b) => pointsFor(b.weight, vnodes));
    let total = counts.reduce((s, x) => s + x, 0);
    if (total > MAX_RING_POINTS) {
      const scale = MAX_RING_POINTS / total;
      counts = counts.map((x) => Math.max(1, Math.floor(x * scale)));
      total = counts.reduce((s, x) => s + x, 0);
    }
    const packed = new Float64Array(total);
    let k = 0;
    for (let rank = 0; rank < byId.length; rank++) {
      const id = byId[rank].id;
      for (let i = 0; i < counts[rank]; i++) packed[k++] = murmur3(`${id}#${i}`) * RANK_SPAN + rank;
    }
    packed.sort(); // numeric typed-array sort: no comparator, no objects
    const points = new Uint32Array(total);
    const owners = new Int32Array(total);
    for (let i = 0; i < total; i++) {
      const rank = packed[i] % RANK_SPAN;
      points[i] = (packed[i] - rank) / RANK_SPAN;
      owners[i] = rank;
    }
    return new Ring(byId, points, owners, 0);
  }

  /**
   * CLB layout: vnode i of a backend lands on slot murmur3(`id#i`) mod slots, or the next
   * free slot clockwise. Backends place theirs in id order; once every slot is taken the
   * rest place none. Probing makes placement order-dependent, so removing a backend can
   * also shift a few later backends' probed vnodes (the tests measure how many keys that moves).
   */
  private static slotted(byId: readonly Backend[], vnodes: number, slots: number): Ring {
    const owner = new Int32Array(slots).fill(-1);
    let used = 0;
    for (let rank = 0; rank < byId.length && used < slots; rank++) {
      const id = byId[rank].id;
      const count = pointsFor(byId[rank].weight, vnodes);
      for (let i = 0; i < count && used < slots; i++) {
        let s = murmur3(`${id}#${i}`) % slots;
        while (owner[s] !== -1) s = s + 1 === slots ? 0 : s + 1;
        owner[s] = rank;
        used++;
      }
    }
    const points = new Uint32Array(used);
    const owners = new Int32Array(used);
    for (let s = 0, k = 0; s < slots; s++) {
      if (owner[s] === -1) continue;
      points[k] = s;
      owners[k++] = owner[s];
    }
    return new Ring(byId, points, owners, slots);
  }

  /** Index of the first point at or after the key's position, wrapping past the top. O(log points). */
  startOf(keyHash: number): number {
    const pos = this.slots > 0 ? keyHash % this.slots : keyHash;
    const p = this.points;
    let lo = 0;
    let hi = p.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (p[mid] < pos) lo = mid + 1; else hi = mid;
    }
    return lo === p.length ? 0 : lo;
  }

  /** Clockwise from the key's point, once round: a member with several points is visited at each. */
  walk(keyHash: number, accept: (b: Backend) => boolean): Backend | undefined {
    const { points, owners, members } = this;
    const n = points.length;
    let i = this.startOf(keyHash);
    for (let step = 0; step < n; step++) {
      const b = members[owners[i]];
      if (accept(b)) return b;
      if (++i === n) i = 0;
    }
    return undefined;
  }
}
