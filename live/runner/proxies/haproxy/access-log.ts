// HAProxy's access log lines (LOG_FORMAT in config.ts) → AccessRecord. Parsed as they
// arrive, so memory grows with the records, never with raw text.
import type { AccessRecord } from '../types.ts';
import { ACCESS_LOG_TAG } from './config.ts';

/** Stands for a server HAProxy's log does not name (see `earlierServer`). */
export const UNKNOWN_SERVER = '?';

/** One log line's fields, as HAProxy wrote them. */
export interface AccessLine {
  acceptMs: number;
  backend: string;
  /** `<NOSRV>` when HAProxy answered without a server. */
  server: string;
  /** Connection retries (`%rc`). */
  retries: number;
  /** `%rc` had HAProxy's `+` prefix: the request was redispatched to another server. */
  redispatched: boolean;
  /** The timers Tq TR Tw Tc Tr Ta in ms (configuration.txt 8.4); -1 when the phase never ended. */
  tq: number; tR: number; tw: number; tc: number; tr: number; ta: number;
  /** 0: HAProxy sent no status (the client went away). */
  status: number;
  /** `%tsc`, e.g. `----` or `SC--` (configuration.txt 8.5). */
  termination: string;
  requestId: string;
}

const INT = '(-?\\d+)';
const LINE = new RegExp(`^${ACCESS_LOG_TAG} (\\d+)\\.(\\d{3}) (\\S+)/(\\S+) (\\+?)(\\d+) ${Array(7).fill(INT).join(' ')} (\\S{4}) (.*)$`);

/** One line → its fields, or undefined for any other line (HAProxy's own notices). */
export function parseAccessLine(line: string): AccessLine | undefined {
  const m = LINE.exec(line.trimEnd());
  if (!m) return undefined;
  const n = (i: number) => Number(m[i]);
  return {
    acceptMs: n(1) * 1000 + n(2),
    backend: m[3], server: m[4],
    redispatched: m[5] === '+', retries: n(6),
    tq: n(7), tR: n(8), tw: n(9), tc: n(10), tr: n(11), ta: n(12),
    status: n(13) === -1 ? 0 : n(13),
    termination: m[14],
    requestId: m[15] === '-' ? '' : m[15],
  };
}

/**
 * HAProxy's own answer in the runner's outcome words, from the termination state (%tsc,
 * configuration.txt 8.5): `<NOSRV>` no server to send to; `SC`/`sC` the connection to the
 * server failed or timed out; `SH`/`SD` the server closed or reset it; `sH`/`sD` the server
 * timed out. Anything else: undefined (the status decides).
 */
export function gatewayError(line: AccessLine): string | undefined {
  if (line.server === '<NOSRV>') return 'no_backend';
  const state = line.termination.slice(0, 2);
  if (state === 'SC' || state === 'sC') return 'connect_failed';
  if (state === 'SH' || state === 'SD') return 'upstream_reset';
  if (state === 'sH' || state === 'sD') return 'upstream_timeout';
  return undefined;
}

/**
 * HAProxy's notice of a server changing state, e.g. `Server servers/s2 is DOWN, reason: …`,
 * `… is going DOWN for maintenance`, `… is UP, reason: …` (server.c srv_update_status).
 */
export function parseStateNotice(line: string): { server: string; up: boolean } | undefined {
  const m = /^Server [^/\s]+\/(\S+) is (?:going )?(UP|DOWN)\b/.exec(line);
  return m ? { server: m[1], up: m[2] === 'UP' } : undefined;
}

/**
 * The servers a request tried, in order. Without `+`, HAProxy kept the server it first
 * assigned (backend.c, back_handle_st_cer: the stream stays SF_ASSIGNED), so every try was
 * on `%s`. With `+`, HAProxy 2.6's log names only the last server; the earlier tries were on
 * servers that failed them, given here as `earlierServer` (the launcher's rule: the one
 * server whose redispatch counter moved during the run, else UNKNOWN_SERVER).
 */
export function triedServers(line: AccessLine, earlierServer: string = UNKNOWN_SERVER): string[] {
  if (line.server === '<NOSRV>') return [];
  const earlier = line.redispatched ? earlierServer : line.server;
  return [...Array.from({ length: line.retries }, () => earlier), line.server];
}

/**
 * Each try's span in epoch ms. Connection attempts begin at accept + Tq + Tw (request
 * received, queue left); Tc covers every attempt up to the connection that held, so the
 * tries before the last share it evenly (HAProxy logs no boundary between them; a refused
 * try is instant and the rest is turn-around, see /work/briefs/haproxy-facts.md). The last
 * try ends with the request: its start (accept + Tq − TR) plus Ta.
 */
export function toAccessRecord(line: AccessLine, earlierServer?: string): AccessRecord {
  const servers = triedServers(line, earlierServer);
  const record: AccessRecord = { requestId: line.requestId, servers, status: line.status };
  const error = gatewayError(line);
  if (error) record.error = error;
  if (servers.length === 0 || line.tq < 0 || line.tw < 0) return record;
  const firstMs = line.acceptMs + line.tq + line.tw;
  const endMs = Math.max(firstMs, line.acceptMs + line.tq - Math.max(0, line.tR) + line.ta);
  const lastMs = line.tc >= 0 ? Math.min(firstMs + line.tc, endMs) : endMs;
  const shareMs = line.retries > 0 ? (lastMs - firstMs) / line.retries : 0;
  const ok = line.tr >= 0 && line.status > 0 && line.status < 500;
  record.attempts = servers.map((server, i) => i < line.retries
    ? { server, startMs: firstMs + i * shareMs, endMs: firstMs + (i + 1) * shareMs, ok: false }
    : { server, startMs: line.retries > 0 ? lastMs : firstMs, endMs, ok });
  return record;
}
