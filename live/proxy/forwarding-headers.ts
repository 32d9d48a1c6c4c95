// Header hygiene both ways (RFC 9110 §7.6.1): hop-by-hop headers and every header named in
// Connection stay on their hop; the proxy adds X-Forwarded-*; clients cannot send the
// proxy's own x-fulcrum-* headers upstream.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization',
  'te', 'trailer', 'transfer-encoding', 'upgrade', 'http2-settings',
]);

/**
 * Set by the proxy itself: never taken from the client. undici sets host, length and expect
 * handling. The proxy owns the client address (X-Forwarded-For): the other headers backends
 * read it from (NGINX's X-Real-IP, Akamai/Cloudflare's True-Client-IP, ...) are dropped, so a
 * client cannot name its own address to a backend that trusts one of them.
 */
const REQUEST_OWN = new Set([
  'host', 'content-length', 'expect', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'forwarded',
  'x-real-ip', 'true-client-ip', 'x-client-ip', 'x-cluster-client-ip', 'client-ip',
]);

export type OutgoingHeaders = Record<string, string | string[]>;

function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  // The usual values name no other header: skip the parse.
  if (value === undefined || value === 'keep-alive' || value === 'close') return undefined;
  const tokens = new Set<string>();
  for (const t of (Array.isArray(value) ? value.join(',') : value).split(',')) {
    const token = t.trim().toLowerCase();
    if (token) tokens.add(token);
  }
  return tokens;
}

export interface ForwardedFor {
  /** The socket peer, appended to X-Forwarded-For. */
  peer: string;
  /** Keep the client's X-Forwarded-* values (the peer is a trusted proxy). */
  trustedPeer: boolean;
  /** Content-Length to send upstream for a streamed body. */
  contentLength?: string;
  /** This proxy's Via entry, appended to the client's (via.ts). */
  via: string;
}

export function upstreamRequestHeaders(raw: IncomingMessage, f: ForwardedFor): OutgoingHeaders {
  const h = raw.headers;
  const named = connectionTokens(h.connection);
  const out: OutgoingHeaders = {};
  for (const name in h) {
    if (HOP_BY_HOP.has(name) || REQUEST_OWN.has(name) || named?.has(name) || name.startsWith('x-fulcrum-')) continue;
    out[name] = h[name]!;
  }
  const xff = f.trustedPeer ? joined(h['x-forwarded-for']) : undefined;
  out['x-forwarded-for'] = xff ? `${xff}, ${f.peer}` : f.peer;
  out['x-forwarded-proto'] = (f.trustedPeer && joined(h['x-forwarded-proto'])) || 'http';
  const host = (f.trustedPeer && joined(h['x-forwarded-host'])) || h.host;
  if (host) out['x-forwarded-host'] = host;
  out.via = h.via ? `${h.via}, ${f.via}` : f.via;
  if (out['x-request-id'] === undefined) out['x-request-id'] = randomUUID();
  if (f.contentLength !== undefined) out['content-length'] = f.contentLength;
  return out;
}

/**
 * A backend's response headers minus hop-by-hop ones (undici gives lower-case names), as
 * the flat [name, value, …] list `writeHead` takes, with the proxy's own headers appended.
 */
export function clientResponseHeaders(upstream: IncomingHttpHeaders, own: readonly string[]): string[] {
  const named = connectionTokens(upstream.connection);
  const out: string[] = [];
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined || HOP_BY_HOP.has(name) || named?.has(name)) continue;
    if (typeof value === 'string') out.push(name, value);
    else for (const v of value) out.push(name, v); // set-cookie stays one line per cookie
  }
  for (const v of own) out.push(v);
  return out;
}

function joined(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}
