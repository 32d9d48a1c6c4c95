// Caddy's JSON log lines (stdout, config.ts `logging`) → AccessRecords, joined by the load
// generator's x-request-id. Two lines tell a request (Caddy v2.6.2):
// - the reverse proxy's debug "upstream roundtrip", once per attempt (reverseproxy.go
//   reverseProxy): the upstream's dial text, the round trip's duration up to the response
//   headers, the request as sent (with X-Request-Id), and the status or the error;
// - the access log's "handled request" (caddyhttp/server.go), once per request: the status
//   the client got and the whole duration, written when the response is done.
// Each is parsed as it arrives, so memory grows with the requests, never with raw text.
import type { AccessRecord } from '../types.ts';
import { ACCESS_LOGGER, PROXY_LOGGER } from './config.ts';

/** One attempt: which upstream, when it ended (epoch ms), how long it took, and its status or error. */
export interface RoundTrip {
  requestId: string;
  /** The upstream's dial text, e.g. `127.0.0.1:41234` or `{http.vars.s2}`. */
  upstream: string;
  endMs: number;
  durationMs: number;
  status?: number;
  error?: string;
}

/** One request as the access log tells it. */
export interface Handled {
  requestId: string;
  endMs: number;
  durationMs: number;
  /** 0 when Caddy wrote no status (the client went away). */
  status: number;
}

/** A state change an active health check reported (events app: `healthy` / `unhealthy`, data.host = the dial address). */
export interface HealthEvent { host: string; healthy: boolean; atMs: number }

export type CaddyLine =
  | { kind: 'roundtrip'; trip: RoundTrip }
  | { kind: 'handled'; handled: Handled }
  | { kind: 'health'; event: HealthEvent };

const WANTED = /"msg":"(upstream roundtrip|handled request|event)"/;

/** Go's canonical header key for x-request-id (net/http CanonicalHeaderKey). */
const REQUEST_ID = 'X-Request-Id';

interface LogEntry {
  logger?: string; msg?: string; ts?: number; duration?: number; status?: number; error?: string; upstream?: string;
  name?: string; data?: { host?: string };
  request?: { headers?: Record<string, string[]> };
}

/** One stdout line → what it tells, or undefined for any other line (start-up, admin, other debug lines). */
export function parseCaddyLine(line: string): CaddyLine | undefined {
  // Most of Caddy's DEBUG output is other lines ("selected upstream" per request): skip them unparsed.
  if (!line.startsWith('{') || !WANTED.test(line)) return undefined;
  let e: LogEntry;
  try { e = JSON.parse(line) as LogEntry; } catch { return undefined; }
  if (typeof e.ts !== 'number') return undefined;
  const endMs = e.ts * 1000;
  const requestId = e.request?.headers?.[REQUEST_ID]?.[0] ?? '';
  const durationMs = (e.duration ?? 0) * 1000;
  if (e.logger === PROXY_LOGGER && e.msg === 'upstream roundtrip' && typeof e.upstream === 'string') {
    const trip: RoundTrip = { requestId, upstream: e.upstream, endMs, durationMs };
    if (typeof e.status === 'number') trip.status = e.status;
    if (typeof e.error === 'string') trip.error = e.error;
    return { kind: 'roundtrip', trip };
  }
  if (e.logger?.startsWith(ACCESS_LOGGER) && e.msg === 'handled request') {
    return { kind: 'handled', handled: { requestId, endMs, durationMs, status: e.status ?? 0 } };
  }
  if (e.logger === 'events' && (e.name === 'healthy' || e.name === 'unhealthy') && typeof e.data?.host === 'string') {
    return { kind: 'health', event: { host: e.data.host, healthy: e.name === 'healthy', atMs: endMs } };
  }
  return undefined;
}

/**
 * Caddy's own failure in the runner's outcome words, from the last attempt's error text (Go's
 * net errors): no attempt at all → no_backend ("no upstreams available", 503); a failed dial
 * (refused, or the transport's dial_timeout) → connect_failed; a timeout waiting for the
 * response headers → upstream_timeout; a connection cut before a response → upstream_reset.
 */
export function gatewayError(status: number, trips: readonly RoundTrip[]): string | undefined {
  if (status < 500) return undefined;
  const last = trips.at(-1);
  if (!last) return status === 503 ? 'no_backend' : undefined;
  const error = last.error;
  if (error === undefined) return undefined; // the upstream's own 5xx
  if (/\bdial\b|connection refused/.test(error)) return 'connect_failed';
  if (/timeout|deadline exceeded/i.test(error)) return 'upstream_timeout';
  return 'upstream_reset';
}

/**
 * A request's record. Attempts are exact to Caddy's clock (µs): each starts at its end minus
 * its duration; the last one lasts until the response is done (the access line's time), the
 * others end when their round trip failed. ok = an answer came with a status below 500.
 */
export function toAccessRecord(handled: Handled, trips: readonly RoundTrip[], serverOf: (upstream: string) => string): AccessRecord {
  const servers = trips.map((t) => serverOf(t.upstream));
  const record: AccessRecord = { requestId: handled.requestId, servers, status: handled.status };
  const error = gatewayError(handled.status, trips);
  if (error) record.error = error;
  record.attempts = trips.map((t, i) => ({
    server: servers[i],
    startMs: t.endMs - t.durationMs,
    endMs: i === trips.length - 1 ? Math.max(t.endMs, handled.endMs) : t.endMs,
    ok: t.error === undefined && t.status !== undefined && t.status < 500,
  }));
  return record;
}

/** Gathers the lines of a run: round trips wait for their request's access line. */
export class CaddyLog {
  private readonly trips = new Map<string, RoundTrip[]>();
  private readonly done: Array<{ handled: Handled; trips: RoundTrip[] }> = [];

  /** Feeds one line; returns a health event when the line was one. */
  add(line: string): HealthEvent | undefined {
    const parsed = parseCaddyLine(line);
    if (!parsed) return undefined;
    if (parsed.kind === 'health') return parsed.event;
    if (parsed.kind === 'roundtrip') {
      const list = this.trips.get(parsed.trip.requestId);
      if (list) list.push(parsed.trip); else this.trips.set(parsed.trip.requestId, [parsed.trip]);
      return undefined;
    }
    const id = parsed.handled.requestId;
    const trips = this.trips.get(id) ?? [];
    this.trips.delete(id);
    this.done.push({ handled: parsed.handled, trips });
    return undefined;
  }

  /** Every request that was logged, in the order Caddy finished them. */
  records(serverOf: (upstream: string) => string): AccessRecord[] {
    return this.done.map((d) => toAccessRecord(d.handled, d.trips, serverOf));
  }
}
