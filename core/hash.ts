// String hashing for the hashing policies: MurmurHash3 (x86, 32-bit) over UTF-16 code
// units. Fast, well distributed, and identical in both engines. Not cryptographic: keys
// are client addresses chosen by the network, not secrets.

/** MurmurHash3 x86_32 of `key` with `seed`, as an unsigned 32-bit integer. */
export function murmur3(key: string, seed = 0): number {
  let h = seed >>> 0;
  const n = key.length;
  let i = 0;
  // Two UTF-16 code units form one 32-bit block.
  for (; i + 1 < n; i += 2) h = mixBlock(h, (key.charCodeAt(i) & 0xffff) | ((key.charCodeAt(i + 1) & 0xffff) << 16));
  if (i < n) h ^= scramble(key.charCodeAt(i) & 0xffff);
  h ^= n * 2;
  return fmix32(h);
}

/** Murmur's finaliser: a cheap avalanche for 32-bit integers. */
export function fmix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * MurmurHash3 x86_32 over two 32-bit words (what `murmur3` does for an 8-byte input).
 * Rendezvous scores each (key, backend) pair with it without building a string per pick.
 */
export function murmur3Pair(a: number, b: number, seed = 0): number {
  let h = seed >>> 0;
  h = mixBlock(h, a);
  h = mixBlock(h, b);
  h ^= 8;
  return fmix32(h);
}

/** One 32-bit block into the running hash. */
function mixBlock(h: number, block: number): number {
  h ^= scramble(block);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** A block's own mix, before it enters the hash (also the tail's, which skips the rotation). */
function scramble(block: number): number {
  let k = Math.imul(block | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, 0x1b873593);
}
