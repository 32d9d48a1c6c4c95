// The checker must be able to fail: a clean hand-made history passes, and each invariant
// is violated once on purpose and caught, naming the offending request.
import { describe, expect, it } from 'vitest';
import type { RequestLogEntry, ResponseLogEntry } from '../../server/replica.ts';
import { type CheckInput, checkHistory } from './checker.ts';
import type { ClientRecord } from './client.ts';

const RETRY = { maxAttempts: 3, budgetRatio: 0.2, minConcurrent: 1, idempotentMethods: ['GET', 'PUT'] };

/** r1: GET retried s1 → s2; r2: POST once on s1; r3: POST the proxy answered 502 after s2 reset it. */
function cleanHistory(): CheckInput {
  const client: ClientRecord[] = [
    { rid: 'r1', method: 'GET', path: '/a', sentBytes: 0, startMs: 0, endMs: 50, outcome: { kind: 'response', status: 200, bytes: 10, sha256: 'd1b', echoedRid: 'r1', attempts: 's1|s2' } },
    { rid: 'r2', method: 'POST', path: '/b', sentBytes: 5, startMs: 10, endMs: 30, outcome: { kind: 'response', status: 200, bytes: 12, sha256: 'd2', echoedRid: 'r2', attempts: 's1' } },
    { rid: 'r3', method: 'POST', path: '/c', sentBytes: 5, startMs: 20, endMs: 40, outcome: { kind: 'response', status: 502, bytes: 80, sha256: 'px', attempts: 's2', proxyError: 'upstream_reset' } },
  ];
  const arrivals: RequestLogEntry[] = [
    { event: 'request', server: 's1', rid: 'r1', attempt: 1, method: 'GET', path: '/a' },
    { event: 'request', server: 's2', rid: 'r1', attempt: 2, method: 'GET', path: '/a' },
    { event: 'request', server: 's1', rid: 'r2', attempt: 1, method: 'POST', path: '/b' },
    { event: 'request', server: 's2', rid: 'r3', attempt: 1, method: 'POST', path: '/c' },
  ];
  const responses: ResponseLogEntry[] = [
    { event: 'response', server: 's2', rid: 'r1', attempt: 2, status: 200, bytesReceived: 0, bytes: 10, sha256: 'd1b' },
    { event: 'response', server: 's1', rid: 'r2', attempt: 1, status: 200, bytesReceived: 5, bytes: 12, sha256: 'd2' },
  ];
  const metricsText = [
    '# HELP fulcrum_requests_total x',
    'fulcrum_requests_total{status_class="2xx"} 2',
    'fulcrum_requests_total{status_class="5xx"} 1',
    'fulcrum_in_flight_requests 0',
    'fulcrum_router_requests_total 3',
    'fulcrum_router_attempts_total 4',
    'fulcrum_router_retries_total 1',
    'fulcrum_router_retry_budget_overflows_total 0',
    'fulcrum_upstream_attempts_total{backend="s1",status_class="2xx"} 1',
    'fulcrum_upstream_attempts_total{backend="s1",status_class="error"} 1',
    'fulcrum_upstream_attempts_total{backend="s2",status_class="2xx"} 1',
    'fulcrum_upstream_attempts_total{backend="s2",status_class="error"} 1',
  ].join('\n');
  return { client, arrivals, responses, metricsText, retry: RETRY, deadlineMs: 1_000, slackMs: 100, oracle: { healthy: [[0, 100]] } };
}

function violated(input: CheckInput) {
  return checkHistory(input).violations.map((v) => `I${v.invariant} ${v.rid ?? '-'}`);
}

function setOutcome(h: CheckInput, rid: string, outcome: ClientRecord['outcome'], extra: Partial<ClientRecord> = {}): CheckInput {
  return { ...h, client: h.client.map((c) => (c.rid === rid ? { ...c, ...extra, outcome } : c)) };
}

describe('history checker', () => {
  it('passes a clean history and checks all seven invariants', () => {
    const r = checkHistory(cleanHistory());
    expect(r.violations).toEqual([]);
    expect(r.checked).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('I1: catches a duplicate outcome, a hang, an answer past the deadline, and a refusal while the proxy was up', () => {
    const h = cleanHistory();
    expect(violated({ ...h, client: [...h.client, h.client[1]] })).toContain('I1 r2');
    expect(violated(setOutcome(h, 'r2', { kind: 'timeout', error: 'aborted' }))).toContain('I1 r2');
    expect(violated(setOutcome(h, 'r2', h.client[1].outcome, { endMs: 2_000 }))).toContain('I1 r2');
    const refused = setOutcome(h, 'r3', { kind: 'refused', error: 'ECONNREFUSED' });
    expect(violated(refused)).toContain('I1 r3');
    // …and accepts it while the proxy was down, and an abort after the response started.
    expect(violated({ ...refused, metricsText: undefined, oracle: { healthy: [[0, 100]], proxyDown: [[15, 25]] } })).toEqual([]);
    expect(violated({ ...setOutcome(h, 'r2', { kind: 'aborted', status: 200, bytes: 3, attempts: 's1', error: 'closed' }), metricsText: undefined })).toEqual([]);
  });

  it('I2: catches a failed GET while a backend was healthy, not one outside the window or excused by budget overflows', () => {
    const h = setOutcome(cleanHistory(), 'r1', { kind: 'response', status: 502, bytes: 80, sha256: 'px', attempts: 's1|s2', proxyError: 'upstream_reset' });
    const noMetrics = { ...h, metricsText: undefined };
    expect(violated(noMetrics)).toEqual(['I2 r1']);
    expect(violated({ ...noMetrics, oracle: { healthy: [[0, 20]] } })).toEqual([]);
    const overflowed = h.metricsText!.replace('overflows_total 0', 'overflows_total 1');
    expect(checkHistory({ ...noMetrics, metricsText: overflowed }).budgetExcused).toBe(1);
  });

  it('I3: catches a POST that reached two backends', () => {
    const h = cleanHistory();
    const twice = { ...h, arrivals: [...h.arrivals, { event: 'request', server: 's3', rid: 'r3', attempt: 2, method: 'POST', path: '/c' } as RequestLogEntry] };
    expect(violated(twice)).toContain('I3 r3');
  });

  it('I4: catches a truncated body presented as complete and a splice of two attempts', () => {
    const h = cleanHistory();
    expect(violated(setOutcome(h, 'r2', { kind: 'response', status: 200, bytes: 6, sha256: 'half', echoedRid: 'r2', attempts: 's1' }))).toContain('I4 r2');
    // r1's first attempt also answered: a spliced body matches neither.
    const both = { ...h, responses: [...h.responses, { event: 'response', server: 's1', rid: 'r1', attempt: 1, status: 200, bytesReceived: 0, bytes: 10, sha256: 'd1a' } as ResponseLogEntry] };
    expect(violated(setOutcome(both, 'r1', { kind: 'response', status: 200, bytes: 10, sha256: 'd1a+d1b', echoedRid: 'r1', attempts: 's1|s2' }))).toContain('I4 r1');
  });

  it('I5: catches amplification beyond the budget, too many attempts for one request, and attempts nobody sent', () => {
    const h = cleanHistory();
    const extra = (rid: string, n: number) => Array.from({ length: n }, (_, i) => ({ event: 'request', server: `s${i}`, rid, attempt: i + 1, method: 'GET', path: '/a' }) as RequestLogEntry);
    const r = checkHistory({ ...h, metricsText: undefined, arrivals: [...h.arrivals, ...extra('r1', 2)] });
    expect(r.violations.map((v) => `I${v.invariant} ${v.rid ?? '-'}`)).toEqual(['I5 -', 'I5 r1']);
    expect(violated({ ...h, metricsText: undefined, arrivals: [...h.arrivals.slice(0, 3), ...extra('ghost', 1)] })).toEqual(['I5 ghost']);
  });

  it('I6: catches an answer delivered to the wrong request', () => {
    const h = cleanHistory();
    const swapped = setOutcome(h, 'r2', { kind: 'response', status: 200, bytes: 10, sha256: 'd1b', echoedRid: 'r1', attempts: 's1' });
    expect(violated({ ...swapped, metricsText: undefined })).toEqual(['I6 r2']);
  });

  it('I7: catches metrics that disagree with the histories', () => {
    const h = cleanHistory();
    for (const [from, to] of [
      ['status_class="2xx"} 2', 'status_class="2xx"} 3'],
      ['fulcrum_router_retries_total 1', 'fulcrum_router_retries_total 0'],
      ['fulcrum_in_flight_requests 0', 'fulcrum_in_flight_requests 1'],
      ['fulcrum_router_attempts_total 4', 'fulcrum_router_attempts_total 5'],
      ['backend="s2",status_class="2xx"} 1', 'backend="s2",status_class="2xx"} 2'],
    ]) {
      expect(violated({ ...h, metricsText: h.metricsText!.replace(from, to) }), to).toContain('I7 -');
    }
  });
});
