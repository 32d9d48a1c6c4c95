// The client side of a history: a bounded load generator (undici) that sets a unique
// request id on every request and records what came back — status, byte count and digest
// of the body, the request id the body echoes — or how it failed. Every request ends in a
// record, by the per-request timeout at the latest, and the run stops at a hard deadline.
import { createHash } from 'node:crypto';
import seedrandom from 'seedrandom';
import { Agent, request } from 'undici';

/** How a request ended, as the client saw it. */
export type ClientOutcome =
  /** A complete response (undici checked Content-Length / chunked framing). */
  | { kind: 'response'; status: number; bytes: number; sha256: string; echoedRid?: string; attempts?: string; proxyError?: string }
  /** Headers arrived, then the connection broke before the body was complete. */
  | { kind: 'aborted'; status: number; bytes: number; attempts?: string; proxyError?: string; error: string }
  /** No response: the connection was refused, reset before headers, or the client gave up. */
  | { kind: 'refused' | 'reset' | 'timeout'; error: string };

export interface ClientRecord {
  rid: string;
  method: string;
  path: string;
  sentBytes: number;
  startMs: number;
  endMs: number;
  outcome: ClientOutcome;
}

export interface RequestSpec { method: string; path: string; body?: Buffer }

export interface LoadOptions {
  url: string;
  /** Requests to send at most. */
  total: number;
  concurrency: number;
  /** Hard stop for the whole run: no request starts after it. */
  runDeadlineMs: number;
  /** The client abandons a request after this long (a hang is recorded as `timeout`). */
  requestTimeoutMs: number;
  seed?: number;
  /** Prefix of request ids (unique per run). */
  ridPrefix?: string;
  /** The n-th request; defaults to `mixedRequest`. */
  spec?: (n: number, rng: () => number) => RequestSpec;
  /** Gets every record as it is made (the soak streams them to disk). */
  onRecord?: (r: ClientRecord) => void;
  /** Keep records in memory (default true). */
  keep?: boolean;
  /** Stops issuing new requests when it returns true. */
  stop?: () => boolean;
  /** Pause of each worker between requests (paces the load, e.g. through an outage). */
  thinkMs?: number;
}

export const nowMs = (): number => performance.now();

/** GETs of three body sizes, POSTs and PUTs with bodies up to 16 KiB. */
export function mixedRequest(n: number, rng: () => number): RequestSpec {
  const r = rng();
  if (r < 0.55) {
    const bytes = [0, 2_000, 60_000][Math.floor(rng() * 3)];
    return { method: 'GET', path: `/item/${n}?bytes=${bytes}` };
  }
  const body = Buffer.alloc(Math.floor(rng() * 16 * 1024));
  for (let i = 0; i < body.length; i += 97) body[i] = Math.floor(rng() * 256);
  return { method: r < 0.9 ? 'POST' : 'PUT', path: `/item/${n}?bytes=1000`, body };
}

export interface LoadRun {
  /** The records (empty with keep: false). */
  records: ClientRecord[];
  sent: number;
  /** Live count of finished requests. */
  readonly done: () => number;
  finished: Promise<void>;
}

export function startLoad(o: LoadOptions): LoadRun {
  const rng = seedrandom(String(o.seed ?? 1));
  const spec = o.spec ?? mixedRequest;
  const prefix = o.ridPrefix ?? `c${o.seed ?? 1}`;
  const agent = new Agent({ connections: o.concurrency, keepAliveTimeout: 2_000, headersTimeout: 0, bodyTimeout: 0 });
  const run: LoadRun = { records: [], sent: 0, done: () => doneCount, finished: Promise.resolve() };
  let doneCount = 0;
  const stopAt = nowMs() + o.runDeadlineMs;
  const worker = async () => {
    while (run.sent < o.total && nowMs() < stopAt && !o.stop?.()) {
      const n = run.sent++;
      const record = await sendOne(agent, o.url, `${prefix}-${n}`, spec(n, rng), o.requestTimeoutMs);
      doneCount++;
      if (o.keep !== false) run.records.push(record);
      o.onRecord?.(record);
      if (o.thinkMs) await new Promise((r) => setTimeout(r, o.thinkMs));
    }
  };
  run.finished = Promise.all(Array.from({ length: o.concurrency }, worker)).then(() => agent.close());
  return run;
}

async function sendOne(agent: Agent, base: string, rid: string, spec: RequestSpec, timeoutMs: number): Promise<ClientRecord> {
  const signal = AbortSignal.timeout(timeoutMs);
  const startMs = nowMs();
  const done = (outcome: ClientOutcome): ClientRecord => ({
    rid, method: spec.method, path: spec.path, sentBytes: spec.body?.length ?? 0, startMs, endMs: nowMs(), outcome,
  });
  let res;
  try {
    res = await request(`${base}${spec.path}`, {
      method: spec.method as 'GET', body: spec.body, headers: { 'x-request-id': rid }, dispatcher: agent, signal,
    });
  } catch (err) {
    const kind = signal.aborted ? 'timeout' : hasCode(err, 'ECONNREFUSED') ? 'refused' : 'reset';
    return done({ kind, error: describe(err) });
  }
  const attempts = header(res.headers['x-fulcrum-attempts']);
  const proxyError = header(res.headers['x-fulcrum-error']);
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    for await (const chunk of res.body) {
      hash.update(chunk as Buffer);
      chunks.push(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
  } catch (err) {
    return done({ kind: 'aborted', status: res.statusCode, bytes, attempts, proxyError, error: signal.aborted ? 'timeout' : describe(err) });
  }
  let echoedRid: string | undefined;
  try { echoedRid = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { requestId?: string }).requestId ?? undefined; } catch { /* not an echo */ }
  return done({ kind: 'response', status: res.statusCode, bytes, sha256: hash.digest('hex'), echoedRid, attempts, proxyError });
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function hasCode(err: unknown, code: string): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: string }).code === code) return true;
  }
  return false;
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  return [e.code, e.cause?.code, e.message].filter(Boolean).join(' ');
}
