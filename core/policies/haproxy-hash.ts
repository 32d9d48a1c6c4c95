// The integer hashing HAProxy 2.6 applies to `balance source` and to consistent-hash
// points. Note what is *not* here: `balance source` never calls the hash-type function
// (sdbm, djb2, wt6, crc32): backend.c get_server_sh XORs the address's 32-bit words and
// only the `avalanche` modifier changes the result. The functions are used for uri, url_param
// and hdr hashing, which Fulcrum does not route by.

/** Bob Jenkins' 32-bit full avalanche, times a large prime (HAProxy include/haproxy/intops.h __full_hash). */
export function fullHash(value: number): number {
  let a = value >>> 0;
  a = (a + 0x7ed55d16 + (a << 12)) >>> 0;
  a = ((a ^ 0xc761c23c) ^ (a >>> 19)) >>> 0;
  a = (a + 0x165667b1 + (a << 5)) >>> 0;
  a = ((a + 0xd3a2646c) ^ (a << 9)) >>> 0;
  a = (a + 0xfd7046c5 + (a << 3)) >>> 0;
  a = ((a ^ 0xb55a4f09) ^ (a >>> 16)) >>> 0;
  // Then × 3221225473, a prime near 3/4 of 2^32, to spread values around the tree.
  return Math.imul(a, 3221225473) >>> 0;
}

/**
 * The source hash of a client address (backend.c get_server_sh): the IPv4 address as one
 * host-order 32-bit word (an IPv6 address: its four words XORed), then the avalanche when
 * asked. undefined when the key is not an IP address (HAProxy then falls back to its
 * round robin over the same table).
 */
export function sourceHash(address: string | undefined, avalanche: boolean): number | undefined {
  if (address === undefined) return undefined;
  const words = addressWords(address);
  if (!words) return undefined;
  let h = 0;
  for (const w of words) h = (h ^ w) >>> 0;
  return avalanche ? fullHash(h) : h;
}

function addressWords(address: string): number[] | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address.replace(/^::ffff:/, ''));
  if (v4) {
    const bytes = v4.slice(1).map(Number);
    if (bytes.some((b) => b > 255)) return undefined;
    return [((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0];
  }
  if (!address.includes(':')) return undefined;
  const [head, tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = address.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const n = groups.map((g) => parseInt(g, 16));
  return [0, 2, 4, 6].map((i) => ((n[i] << 16) | n[i + 1]) >>> 0);
}
