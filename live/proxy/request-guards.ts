// Checks Node's HTTP parser does not make (reliability.md §3.1): Node accepts two Host
// headers and absolute-form targets (and Host presence is checked here, see proxy-app.ts), and silently drops headers beyond maxHeadersCount (so a
// request at the limit may be missing some: refuse it). Run first thing in the handler,
// which costs less than a Fastify hook on every request.
import type { IncomingMessage } from 'node:http';
import type { ClientError } from './responses.ts';

const SLASH = 47;

/** The status and code to refuse `raw` with, or undefined when it may be forwarded. */
export function malformedRequest(raw: IncomingMessage, maxHeaderCount: number): [number, ClientError] | undefined {
  // Absolute-form (`GET http://169.254.169.254/`) or `*`: the proxy picks the origin, never the client.
  if (raw.url!.charCodeAt(0) !== SLASH) return [400, 'bad_target'];
  const rh = raw.rawHeaders;
  if (rh.length / 2 > maxHeaderCount) return [431, 'too_many_headers'];
  let hosts = 0;
  for (let i = 0; i < rh.length; i += 2) if (rh[i].length === 4 && rh[i].toLowerCase() === 'host') hosts++;
  if (hosts > 1) return [400, 'duplicate_host'];
  if (hosts === 0 && raw.httpVersionMinor >= 1) return [400, 'missing_host']; // HTTP/1.1 requires one (RFC 9112 §3.2)
  return undefined;
}
