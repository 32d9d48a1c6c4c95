// NGINX's access log lines (LOG_FORMAT in config.ts) → AccessRecord, with every attempt:
// NGINX lists each server it tried in $upstream_addr and each try's status and times in
// the same order (ngx_http_upstream.c, ngx_http_upstream_addr_variable and friends walk
// r->upstream_states, one entry per try).
import type { AccessRecord } from '../types.ts';
import { ACCESS_LOG_TAG, UPSTREAM_NAME } from './config.ts';

/** One try as NGINX logged it. */
export interface UpstreamTry {
  /** `127.0.0.1:41234`, or the upstream's name when no server was live (no connection made). */
  addr: string;
  /** 0 when NGINX logged `-`. */
  status: number;
  /** Seconds; undefined when NGINX logged `-` (no connection). */
  connectS?: number;
  responseS?: number;
}

/** One log line's fields. */
export interface AccessLine {
  endMs: number;
  requestMs: number;
  status: number;
  /** The worker process that served the request. */
  pid: number;
  tries: UpstreamTry[];
  requestId: string;
}

/** `a, b, c` → its items; `-` (no upstream at all) → []. Internal redirects (` : `) join their groups. */
const list = (text: string): string[] => (text === '-' ? [] : text.split(/, | : /));
const seconds = (text: string | undefined): number | undefined => (text === undefined || text === '-' ? undefined : Number(text));

/** One line → its fields, or undefined for any other line. */
export function parseAccessLine(line: string): AccessLine | undefined {
  const f = line.trimEnd().split('\t');
  if (f.length !== 10 || f[0] !== ACCESS_LOG_TAG) return undefined;
  const [addrs, statuses, connects, responses] = [list(f[5]), list(f[6]), list(f[7]), list(f[8])];
  return {
    endMs: Math.round(Number(f[1]) * 1000),
    requestMs: Math.round(Number(f[2]) * 1000),
    status: Number(f[3]),
    pid: Number(f[4]),
    tries: addrs.map((addr, i) => {
      const t: UpstreamTry = { addr, status: statuses[i] === undefined || statuses[i] === '-' ? 0 : Number(statuses[i]) };
      const connectS = seconds(connects[i]);
      const responseS = seconds(responses[i]);
      if (connectS !== undefined) t.connectS = connectS;
      if (responseS !== undefined) t.responseS = responseS;
      return t;
    }),
    requestId: f[9] === '-' ? '' : f[9],
  };
}

const tryOk = (t: UpstreamTry): boolean => t.status >= 100 && t.status < 500;

/**
 * NGINX's own answer in the runner's outcome words: no live server (its 502 names the
 * upstream, not a server); the last try timed out (504); the last connection failed (502
 * without a connect time) or broke after it was made (502 with one). A 502/504 a server
 * sent itself looks the same in the log; the replicas never send those.
 */
export function gatewayError(line: AccessLine, isServer: (addr: string) => boolean): string | undefined {
  const last = line.tries.at(-1);
  if (!last || !isServer(last.addr)) return line.status === 502 ? 'no_backend' : undefined;
  if (line.status !== last.status) return undefined;
  if (last.status === 504) return 'upstream_timeout';
  if (last.status === 502) return last.connectS === undefined ? 'connect_failed' : 'upstream_reset';
  return undefined;
}

/**
 * The record, with each try's span: tries run one after the other from the request's start
 * ($msec − $request_time), each lasting its $upstream_response_time (ms resolution, as NGINX
 * logs it); `serverOf` maps an address to the server id (undefined: the upstream's name).
 */
export function toAccessRecord(line: AccessLine, serverOf: (addr: string) => string | undefined): AccessRecord {
  const tries = line.tries.flatMap((t) => {
    const server = serverOf(t.addr);
    return server === undefined ? [] : [{ server, t }];
  });
  const record: AccessRecord = { requestId: line.requestId, servers: tries.map((x) => x.server), status: line.status };
  const error = gatewayError(line, (addr) => serverOf(addr) !== undefined);
  if (error) record.error = error;
  if (tries.length === 0) return record;
  let atMs = line.endMs - line.requestMs;
  record.attempts = tries.map(({ server, t }) => {
    const startMs = atMs;
    atMs = Math.min(line.endMs, atMs + Math.round((t.responseS ?? 0) * 1000));
    return { server, startMs, endMs: atMs, ok: tryOk(t) };
  });
  record.attempts.at(-1)!.endMs = line.endMs;
  return record;
}

/** Maps `$upstream_addr` entries back to server ids; the upstream's own name (no live server) maps to none. */
export class ServerAddresses {
  private readonly ids = new Map<string, string>();
  set(addr: string, id: string): void { this.ids.set(addr, id); }
  idOf = (addr: string): string | undefined => (addr === UPSTREAM_NAME ? undefined : this.ids.get(addr) ?? addr);
}
