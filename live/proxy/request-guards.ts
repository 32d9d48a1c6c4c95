// Checks Node's HTTP parser does not make (reliability.md §3.1): Node accepts two Host
// headers, absolute-form targets, fragments in the target, versions other than 1.x,
// Transfer-Encoding on HTTP/1.0 and transfer codings before `chunked` that it does not
// decode; and it has no header-count limit of its own below maxHeadersCount (which
// proxy-app.ts sets above ours: over it, Node 24's parser fails the request outright).
// Host presence is checked here too (see proxy-app.ts). Run first thing in the handler,
// which costs less than a Fastify hook on every request.
import type { IncomingMessage } from 'node:http';
import type { ClientError } from './responses.ts';

const SLASH = 47;
const REAL_FRAMING = new Set(['transfer-encoding', 'content-length']);
/** RFC 9110 §7.2 Host = uri-host [ ":" port ]: an IP-literal or a reg-name (RFC 3986 §3.2.2). */
/**
 * Names that read as a framing header to a lenient backend or the next hop but are not one
 * (`Transfer_Encoding`, `Content_Length`, `Transfer---Encoding`): the proxy frames by the
 * real headers only, so a backend that folds `_` into `-` (as CGI and some frameworks do)
 * would see two framings. Refused, as Envoy's `headers_with_underscores_action: REJECT_REQUEST`.
 */
const FRAMING_LOOKALIKE = /^(?:transfer[^a-z0-9]*encoding|content[^a-z0-9]*length)$/i;
const HOST_VALUE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::\d*)?$/;

/** The status and code to refuse `raw` with, or undefined when it may be forwarded. */
export function malformedRequest(raw: IncomingMessage, maxHeaderCount: number): [number, ClientError] | undefined {
  // llhttp accepts `HTTP/0.9` and `HTTP/2.0` request lines; this proxy speaks HTTP/1.x only.
  if (raw.httpVersionMajor !== 1) return [505, 'unsupported_version'];
  // Absolute-form (`GET http://169.254.169.254/`) or `*`: the proxy picks the origin, never the client.
  if (raw.url!.charCodeAt(0) !== SLASH) return [400, 'bad_target'];
  // A fragment is never part of a request-target (RFC 9112 §3.2), yet llhttp passes it on and
  // backends disagree on what `/index.html#.png` names (HAProxy CVE-2023-45539): refuse it.
  if (raw.url!.includes('#')) return [400, 'bad_target'];
  const rh = raw.rawHeaders;
  if (rh.length / 2 > maxHeaderCount) return [431, 'too_many_headers'];
  let hosts = 0;
  let host = '';
  for (let i = 0; i < rh.length; i += 2) {
    const name = rh[i];
    if (name.length === 4 && name.toLowerCase() === 'host') { hosts++; host = rh[i + 1]; }
    else if (name.length >= 13 && FRAMING_LOOKALIKE.test(name) && !REAL_FRAMING.has(name.toLowerCase())) return [400, 'bad_header'];
  }
  if (hosts > 1) return [400, 'duplicate_host'];
  if (hosts === 0 && raw.httpVersionMinor >= 1) return [400, 'missing_host']; // HTTP/1.1 requires one (RFC 9112 §3.2)
  if (hosts === 1 && !HOST_VALUE.test(host)) return [400, 'bad_host']; // RFC 9112 §3.2: invalid field value → 400
  const te = raw.headers['transfer-encoding'];
  if (te !== undefined) {
    // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means the framing is faulty
    // (an HTTP/1.0 hop in front may have read the body by Content-Length or to the close).
    if (raw.httpVersionMinor === 0) return [400, 'bad_framing'];
    const codings = te.toLowerCase().split(',').map((c) => c.trim());
    // §6.3: chunked not last → the length cannot be known: 400 (Node lets such a request through).
    if (codings.at(-1) !== 'chunked') return [400, 'bad_framing'];
    // Node frames any list ending in `chunked` (`gzip, chunked`) but decodes only chunked; the
    // proxy drops the hop-by-hop header, so the backend would get still-coded bytes. §6.1: 501.
    if (codings.length > 1) return [501, 'unsupported_transfer_coding'];
  }
  return undefined;
}
