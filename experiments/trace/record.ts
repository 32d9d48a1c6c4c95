// One request of a recorded trace, whatever the log format it came from, and the error a
// malformed line raises. Formats differ in what they log; this is what every one yields.

/** The trace formats `workload.trace.format` and `npm run trace -- import --format` accept. */
export const TRACE_FORMATS = ['fulcrum', 'nginx', 'haproxy', 'csv'] as const;
export type TraceFormat = typeof TRACE_FORMATS[number];

export interface TraceRecord {
  /** 1-based line of the file it came from (for messages). */
  line: number;
  /** When the client's request arrived, ms on the log's own clock (epoch ms or a run's t0). */
  atMs: number;
  /** The client's identity as logged: an address, a user id, or Fulcrum's client index. */
  client: string;
  /** Absent when the format does not log it (Fulcrum's requests.csv): the workload's method and path apply. */
  method?: string;
  path?: string;
  /** The time the upstream took, as logged, before any overhead is subtracted (see estimate.ts). */
  upstreamMs: number;
  /** The backend that answered, when the format logs it (the queueing estimator needs it). */
  server?: string;
}

/** A line that does not parse: names the file, the line and what was expected there. */
export class TraceError extends Error {
  constructor(readonly file: string, readonly line: number, readonly expected: string) {
    super(`${file}:${line}: ${expected}`);
  }
}

/** What a format parser makes of one line: a record, a reason to skip it (counted, not fatal), or a problem. */
export type LineResult = TraceRecord | { skip: string } | { problem: string };

/** HTTP methods a replay may send: CONNECT and TRACE are not routed as requests. */
export const REPLAY_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

/** A logged decimal number (no sign, no exponent); undefined when the text is anything else. */
export function parseDecimal(text: string): number | undefined {
  return /^[0-9]+(?:\.[0-9]+)?(?:e[-+]?[0-9]+)?$/.test(text) ? Number(text) : undefined;
}
