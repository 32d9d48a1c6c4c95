// Small checks shared by the proxy's admin API and the replica's control endpoint.
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/** `::ffff:127.0.0.1` → `127.0.0.1`, so one address has one spelling (hash keys, allow-lists). */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** 127.0.0.0/8 and ::1: the only peers a loopback-only endpoint answers. */
export function isLoopbackAddress(address: string | undefined): boolean {
  const a = normalizeAddress(address);
  return a === '::1' || (isIP(a) === 4 && a.startsWith('127.'));
}

/** Hostnames that stay on this machine. `localhost` is trusted as the resolver's loopback name. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return h === 'localhost' || isLoopbackAddress(h);
}

export type TokenCheck = 'ok' | 'missing' | 'wrong';

/**
 * Checks an `Authorization: Bearer <token>` header. Both sides are hashed first so the
 * comparison takes the same time whatever the length or content of the guess.
 */
export function checkBearer(header: string | undefined, token: string): TokenCheck {
  if (!header) return 'missing';
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return 'wrong';
  const a = createHash('sha256').update(m[1]).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b) ? 'ok' : 'wrong';
}
