// NGINX access logs: the `combined` format followed by the request time, the upstream's
// response time and address, and optionally $msec (the log time in ms; without it, arrivals
// are only known to the second). The log_format line to add (docs/experiments.md):
//   log_format replay '$remote_addr - $remote_user [$time_local] "$request" '
//                     '$status $body_bytes_sent "$http_referer" "$http_user_agent" '
//                     '$request_time $upstream_response_time $upstream_addr $msec';
// NGINX writes a line when the request ends: arrival = log time − $request_time. When NGINX
// tried several upstreams ("0.010, 0.004"), the last one answered: its time is the service's.
import { parseLogDate, parseRequestLine } from './http-date.ts';
import { type LineResult, REPLAY_METHODS, parseDecimal } from './record.ts';

const QUOTED = '"((?:[^"\\\\]|\\\\.)*)"';
const COMBINED = new RegExp(`^(\\S+) - (\\S+) \\[([^\\]]+)\\] ${QUOTED} (\\d{3}) (\\d+|-) ${QUOTED} ${QUOTED}(?: (.*))?$`);
const EXPECTED = 'expected NGINX combined + "$request_time $upstream_response_time $upstream_addr [$msec]"';

export function nginxLine(text: string, line: number): LineResult {
  const m = COMBINED.exec(text);
  if (!m) return { problem: `${EXPECTED}; the combined part does not match` };
  const [, client, , timeLocal, request, , , , , tail = ''] = m;
  // Upstream lists separate attempts with ", " and internal redirects with " : ".
  const tokens = tail.split(' ').filter((t) => t !== ':' && t !== '').map((t) => t.replace(/,$/, ''));
  const requestSec = parseDecimal(tokens[0] ?? '');
  if (requestSec === undefined) return { problem: `${EXPECTED}; $request_time: expected seconds (e.g. 0.012), got ${JSON.stringify(tokens[0] ?? '')}` };
  const rest = tokens.slice(1);
  let endMs: number | undefined;
  if (rest.length % 2 === 1) {
    const msec = rest.pop()!;
    endMs = /^\d+\.\d{3}$/.test(msec) ? Number(msec) * 1000 : undefined;
    if (endMs === undefined) return { problem: `${EXPECTED}; $msec: expected seconds with 3 decimals, got ${JSON.stringify(msec)}` };
  } else {
    endMs = parseLogDate(timeLocal);
    if (endMs === undefined) return { problem: `${EXPECTED}; $time_local: expected e.g. 05/Dec/2026:21:33:54 +0000, got ${JSON.stringify(timeLocal)}` };
  }
  if (rest.length === 0) return { problem: `${EXPECTED}; $upstream_response_time and $upstream_addr are missing` };
  const times = rest.slice(0, rest.length / 2);
  const answered = times[times.length - 1];
  if (answered === '-') return { skip: 'no upstream answered (served by NGINX itself, or the client left first)' };
  const upstreamSec = parseDecimal(answered);
  if (upstreamSec === undefined) return { problem: `${EXPECTED}; $upstream_response_time: expected seconds or -, got ${JSON.stringify(answered)}` };
  const req = parseRequestLine(request);
  if (!req) return { problem: `${EXPECTED}; $request: expected "METHOD /path HTTP/x", got ${JSON.stringify(request)}` };
  if (!REPLAY_METHODS.has(req.method)) return { skip: `method ${req.method} is not replayed` };
  const server = rest[rest.length - 1];
  return { line, atMs: endMs - requestSec * 1000, client, method: req.method, path: req.path, upstreamMs: upstreamSec * 1000, server };
}
