// The history checker (docs: ../shared/research/reliability.md §2). It reads only what a
// black-box observer has: the client's records, the replicas' logs (arrivals with attempt
// numbers; full answers with size and digest), the proxy's /metrics text and the test's
// own knowledge of when a healthy backend existed and when the proxy was up. Nothing here
// imports proxy code, so a bug in the proxy cannot hide in a shared helper.
import type { RequestLogEntry, ResponseLogEntry } from '../../server/replica.ts';
import type { ClientRecord } from './client.ts';

export type Invariant = 1 | 2 | 3 | 4 | 5 | 6 | 7;

export const INVARIANTS: Record<Invariant, string> = {
  1: 'exactly one answer, none past the deadline',
  2: 'idempotent requests succeed while a healthy backend exists',
  3: 'no non-idempotent request reaches backends twice',
  4: 'client bytes are exactly one attempt\'s bytes',
  5: 'attempts within the retry budget',
  6: 'no response to the wrong request',
  7: 'metrics reconcile with the histories',
};

export interface Violation { invariant: Invariant; rid?: string; detail: string }

/** Closed time intervals [fromMs, toMs] on the client's clock (performance.now()). */
export type Interval = [fromMs: number, toMs: number];

export interface CheckInput {
  client: readonly ClientRecord[];
  arrivals: readonly RequestLogEntry[];
  responses: readonly ResponseLogEntry[];
  /** The proxy's /metrics text, scraped after the load; absent when the proxy restarted (its counters restarted too). */
  metricsText?: string;
  retry: { maxAttempts: number; budgetRatio: number; minConcurrent: number; idempotentMethods: readonly string[] };
  /** The proxy's overall request deadline, and the slack allowed on top for a loaded machine. */
  deadlineMs: number;
  slackMs: number;
  oracle: {
    /** When at least one backend was healthy and known to be (the idempotent-success window). */
    healthy: readonly Interval[];
    /** When the proxy process was down (connection errors are allowed only then). Default: never. */
    proxyDown?: readonly Interval[];
  };
}

export interface CheckResult {
  violations: Violation[];
  /** Invariants that were checked (7 only with metrics). */
  checked: Invariant[];
  /** Idempotent failures the budget accounts for (retry-budget overflows in the metrics). */
  budgetExcused: number;
}

const within = (list: readonly Interval[], from: number, to: number) => list.some(([a, b]) => a <= from && to <= b);
const overlaps = (list: readonly Interval[], from: number, to: number) => list.some(([a, b]) => a <= to && from <= b);
const pathLength = (attempts: string | undefined) => (attempts ? attempts.split('|').length : 0);

export function checkHistory(input: CheckInput): CheckResult {
  const v: Violation[] = [];
  const { client, arrivals, responses, retry, oracle } = input;
  const idempotent = new Set(retry.idempotentMethods);
  const proxyDown = oracle.proxyDown ?? [];

  const arrivalsByRid = new Map<string, RequestLogEntry[]>();
  for (const a of arrivals) {
    const list = arrivalsByRid.get(a.rid ?? '') ?? [];
    list.push(a);
    arrivalsByRid.set(a.rid ?? '', list);
  }
  const responsesByDigest = new Map<string, ResponseLogEntry[]>();
  for (const r of responses) {
    const key = `${r.sha256}/${r.bytes}`;
    responsesByDigest.set(key, [...(responsesByDigest.get(key) ?? []), r]);
  }

  // I1: one record per request id; no answer only while the proxy was down, or after the
  // response had started (aborted); nothing took longer than the deadline.
  const seen = new Set<string>();
  for (const c of client) {
    if (seen.has(c.rid)) v.push({ invariant: 1, rid: c.rid, detail: 'two outcomes for one request' });
    seen.add(c.rid);
    const o = c.outcome;
    if (o.kind === 'timeout') v.push({ invariant: 1, rid: c.rid, detail: `no answer within ${Math.round(c.endMs - c.startMs)} ms (hang)` });
    else if ((o.kind === 'refused' || o.kind === 'reset') && !overlaps(proxyDown, c.startMs, c.endMs)) {
      v.push({ invariant: 1, rid: c.rid, detail: `${o.kind} while the proxy was up: ${o.error}` });
    }
    const tookMs = c.endMs - c.startMs;
    if (o.kind !== 'timeout' && tookMs > input.deadlineMs + input.slackMs) {
      v.push({ invariant: 1, rid: c.rid, detail: `took ${Math.round(tookMs)} ms > deadline ${input.deadlineMs} + ${input.slackMs} ms` });
    }
  }

  // I2: an idempotent request inside a healthy window succeeds. An aborted body is I1's
  // allowed exception (once the response started nothing may be retried); refusals while
  // the proxy was down are not the proxy's to answer.
  const idempotentFailures: Violation[] = [];
  for (const c of client) {
    if (!idempotent.has(c.method) || !within(oracle.healthy, c.startMs, c.endMs) || overlaps(proxyDown, c.startMs, c.endMs)) continue;
    const o = c.outcome;
    if (o.kind === 'aborted') continue;
    if (o.kind === 'response' && o.status >= 200 && o.status < 300) continue;
    idempotentFailures.push({
      invariant: 2, rid: c.rid,
      detail: o.kind === 'response' ? `status ${o.status}${o.proxyError ? ` (${o.proxyError})` : ''} via ${o.attempts}` : `${o.kind}: ${o.error}`,
    });
  }
  const metrics = input.metricsText !== undefined ? parseMetrics(input.metricsText) : undefined;
  const overflows = metrics ? metrics.sum('fulcrum_router_retry_budget_overflows_total') : 0;
  const budgetExcused = Math.min(overflows, idempotentFailures.length);
  v.push(...idempotentFailures.slice(budgetExcused));

  // I3: a non-idempotent request arrives at most once in all replica logs together (an
  // attempt that provably never left the proxy never arrives, so it cannot count).
  for (const c of client) {
    if (idempotent.has(c.method)) continue;
    const got = arrivalsByRid.get(c.rid) ?? [];
    if (got.length > 1) v.push({ invariant: 3, rid: c.rid, detail: `${c.method} arrived ${got.length} times: ${got.map((a) => `${a.server}#${a.attempt}`).join(', ')}` });
  }

  // I4 and I6: a complete answer that did not come from the proxy itself is byte-for-byte
  // one answer some replica logged — for this request, echoing this request's id.
  for (const c of client) {
    const o = c.outcome;
    if (o.kind !== 'response' || o.proxyError !== undefined) continue;
    const matches = responsesByDigest.get(`${o.sha256}/${o.bytes}`) ?? [];
    if (matches.length !== 1) {
      v.push({ invariant: 4, rid: c.rid, detail: `status ${o.status}, ${o.bytes} bytes: matches ${matches.length} replica answers (want exactly 1)` });
      continue;
    }
    if (matches[0].rid !== c.rid) v.push({ invariant: 6, rid: c.rid, detail: `got the answer replica ${matches[0].server} sent to ${matches[0].rid}` });
    else if (o.echoedRid !== undefined && o.echoedRid !== c.rid) v.push({ invariant: 6, rid: c.rid, detail: `body echoes ${o.echoedRid}` });
    if (matches[0].status !== o.status) v.push({ invariant: 4, rid: c.rid, detail: `status ${o.status}, replica sent ${matches[0].status}` });
  }

  // I5: amplification bounded by the budget, and per request by maxAttempts; no attempt
  // for a request the client never sent.
  const requests = client.length;
  const bound = Math.floor(requests * (1 + retry.budgetRatio) + retry.minConcurrent);
  if (arrivals.length > bound) {
    v.push({ invariant: 5, detail: `${arrivals.length} backend attempts for ${requests} requests > ${requests} × (1 + ${retry.budgetRatio}) + ${retry.minConcurrent} = ${bound}` });
  }
  for (const [rid, list] of arrivalsByRid) {
    if (!seen.has(rid)) v.push({ invariant: 5, rid, detail: `${list.length} attempts for a request the client never sent` });
    else if (list.length > retry.maxAttempts) v.push({ invariant: 5, rid, detail: `${list.length} attempts > maxAttempts ${retry.maxAttempts}` });
  }

  if (metrics) v.push(...reconcileMetrics(metrics, client, arrivals, responses));
  return { violations: v, checked: metrics ? [1, 2, 3, 4, 5, 6, 7] : [1, 2, 3, 4, 5, 6], budgetExcused };
}

// I7: the proxy's own counters against the two histories.
function reconcileMetrics(m: Metrics, client: readonly ClientRecord[], arrivals: readonly RequestLogEntry[], responses: readonly ResponseLogEntry[]): Violation[] {
  const v: Violation[] = [];
  const bad = (detail: string) => v.push({ invariant: 7, detail });
  const inFlight = m.sum('fulcrum_in_flight_requests');
  if (inFlight !== 0) bad(`fulcrum_in_flight_requests = ${inFlight} after the load ended`);

  const byClass = (cls: string) => m.sum('fulcrum_requests_total', { status_class: cls });
  const clientClass = (lo: number) => client.filter((c) => c.outcome.kind === 'response' && c.outcome.status >= lo && c.outcome.status < lo + 100).length;
  for (const [cls, lo] of [['2xx', 200], ['4xx', 400], ['5xx', 500]] as const) {
    if (byClass(cls) !== clientClass(lo)) bad(`fulcrum_requests_total{status_class="${cls}"} = ${byClass(cls)}, client got ${clientClass(lo)} complete ${cls} answers`);
  }
  const aborted = client.filter((c) => c.outcome.kind === 'aborted').length;
  if (byClass('error') < aborted) bad(`fulcrum_requests_total{status_class="error"} = ${byClass('error')} < ${aborted} aborted answers`);

  const routerRequests = m.sum('fulcrum_router_requests_total');
  const attempts = m.sum('fulcrum_router_attempts_total');
  const retries = m.sum('fulcrum_router_retries_total');
  if (attempts - routerRequests !== retries) bad(`router attempts ${attempts} − requests ${routerRequests} ≠ retries ${retries}`);
  if (attempts < arrivals.length) bad(`router attempts ${attempts} < ${arrivals.length} attempts the replicas logged`);
  // When every request got response headers, each one's attempt path is the whole story.
  const withHeaders = client.filter((c) => c.outcome.kind === 'response' || c.outcome.kind === 'aborted');
  if (withHeaders.length === client.length) {
    const pathTotal = withHeaders.reduce((n, c) => n + pathLength((c.outcome as { attempts?: string }).attempts), 0);
    if (attempts !== pathTotal) bad(`router attempts ${attempts} ≠ ${pathTotal} attempts listed in x-fulcrum-attempts`);
    if (routerRequests !== client.length) bad(`router requests ${routerRequests} ≠ ${client.length} client requests`);
  }
  // A 2xx/5xx the proxy counted from a backend is one the backend logged sending.
  for (const [cls, lo] of [['2xx', 200], ['5xx', 500]] as const) {
    const counted = m.sum('fulcrum_upstream_attempts_total', { status_class: cls });
    const sent = responses.filter((r) => r.status >= lo && r.status < lo + 100).length;
    if (counted > sent) bad(`fulcrum_upstream_attempts_total{status_class="${cls}"} = ${counted} > ${sent} such answers the replicas logged`);
  }
  return v;
}

export interface Metrics { sum(name: string, labels?: Record<string, string>): number }

/** Prometheus text format, the subset prom-client writes: `name{a="b",…} value`. */
export function parseMetrics(text: string): Metrics {
  const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return {
    sum(name, want = {}) {
      let total = 0;
      for (const s of samples) {
        if (s.name === name && Object.entries(want).every(([k, val]) => s.labels[k] === val)) total += s.value;
      }
      return total;
    },
  };
}

/** Violations per invariant, for summaries and failure messages. */
export function violationCounts(r: CheckResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of r.checked) out[`I${i}`] = r.violations.filter((x) => x.invariant === i).length;
  return out;
}
