// HAProxy `option httplog` lines, with or without the syslog prefix:
//   10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 "GET /index.html HTTP/1.1"
// Timers TR/Tw/Tc/Tr/Ta (ms; -1 when that step never happened). The date is when the request
// began (%tr), so it is the arrival; Tr, from sending the request to the server until its
// response headers, is the server's time (its queue and service, plus one network round trip).
import { parseLogDate, parseRequestLine } from './http-date.ts';
import { type LineResult, REPLAY_METHODS } from './record.ts';

const HTTPLOG = new RegExp([
  '^(?:.*?\\]: )?', // syslog prefix, up to "haproxy[pid]: "
  '(\\S+):(\\d+) \\[([^\\]]+)\\] (\\S+) (\\S+)/(\\S+) ', // client:port [date] frontend backend/server
  '(-?\\d+)/(-?\\d+)/(-?\\d+)/(-?\\d+)/\\+?(-?\\d+) ', // TR/Tw/Tc/Tr/Ta
  '(-?\\d+) \\+?(\\d+) (\\S+) (\\S+) (\\S+) ', // status bytes req-cookie resp-cookie termination
  '(\\d+)/(\\d+)/(\\d+)/(\\d+)/\\+?(\\d+) (\\d+)/(\\d+)', // actconn/feconn/beconn/srv_conn/retries srv_queue/backend_queue
  '(?: \\{[^}]*\\})* "(.*)"$', // captured headers, then the request line
].join(''));
const EXPECTED = 'expected an HAProxy httplog line: client:port [date] frontend backend/server TR/Tw/Tc/Tr/Ta status bytes - - flags conns/retries queues "request"';

export function haproxyLine(text: string, line: number): LineResult {
  const m = HTTPLOG.exec(text);
  if (!m) return { problem: EXPECTED };
  const client = m[1];
  const atMs = parseLogDate(m[3]);
  if (atMs === undefined) return { problem: `${EXPECTED}; date: expected e.g. 06/Feb/2009:12:14:14.655, got ${JSON.stringify(m[3])}` };
  const server = m[6];
  const tr = Number(m[10]);
  if (server === '<NOSRV>' || tr < 0) return { skip: 'no server response (server <NOSRV> or Tr = -1)' };
  const req = parseRequestLine(m[24]);
  if (!req) return { problem: `${EXPECTED}; request: expected "METHOD /path HTTP/x", got ${JSON.stringify(m[24])}` };
  if (!REPLAY_METHODS.has(req.method)) return { skip: `method ${req.method} is not replayed` };
  return { line, atMs, client, method: req.method, path: req.path, upstreamMs: tr, server: `${m[5]}/${server}` };
}
