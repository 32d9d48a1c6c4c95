// Caddy 2.6.2's own log lines (test/live/fixtures/caddy-access.log, captured from the binary:
// a served request on a named upstream, a refused dial, a response-header timeout, a
// connection closed without an answer, a request with no healthy upstream, a health event)
// → the runner's AccessRecords.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CaddyLog, gatewayError, parseCaddyLine } from '../../live/runner/proxies/caddy/access-log.ts';

const LINES = readFileSync(new URL('./fixtures/caddy-access.log', import.meta.url), 'utf8').trim().split('\n');
const names: Record<string, string> = { '{http.vars.s1}': 's1', '127.0.0.1:35599': 's2', '127.0.0.1:41123': 's3', '127.0.0.1:46627': 's4' };

function records() {
  const log = new CaddyLog();
  const health = LINES.map((l) => log.add(l)).filter((h) => h !== undefined);
  return { records: log.records((u) => names[u] ?? u), health };
}

describe("Caddy's log → AccessRecords", () => {
  it('one record per handled request, in order, keyed by X-Request-Id', () => {
    expect(records().records.map((r) => r.requestId)).toEqual(['r1', 'dead1', 'slow1', 'reset1', 'none1']);
  });

  it('a served request: one attempt on the named upstream, its span from the round trip to the end of the response', () => {
    const r1 = records().records[0];
    expect(r1).toMatchObject({ servers: ['s1'], status: 200 });
    expect(r1.error).toBeUndefined();
    const [a] = r1.attempts!;
    expect(a.ok).toBe(true);
    // roundtrip ts 1796515864.792574 − duration 0.005388261 s; the access line's ts ends it.
    expect(a.startMs).toBeCloseTo(1796515864792.574 - 5.388261, 3);
    expect(a.endMs).toBeCloseTo(1796515864792.7217, 3);
  });

  it("Caddy's own answers in the runner's words: refused dial, header timeout, reset, no upstream", () => {
    const byId = Object.fromEntries(records().records.map((r) => [r.requestId, r]));
    expect(byId.dead1).toMatchObject({ servers: ['s2'], status: 502, error: 'connect_failed' });
    expect(byId.slow1).toMatchObject({ servers: ['s3'], status: 504, error: 'upstream_timeout' });
    expect(byId.reset1).toMatchObject({ servers: ['s4'], status: 502, error: 'upstream_reset' });
    expect(byId.none1).toMatchObject({ servers: [], status: 503, error: 'no_backend', attempts: [] });
    for (const id of ['dead1', 'slow1', 'reset1']) expect(byId[id].attempts!.map((a) => a.ok)).toEqual([false]);
    // The header timeout took 200 ms (response_header_timeout) of Caddy's clock.
    const slow = byId.slow1.attempts![0];
    expect(slow.endMs - slow.startMs).toBeGreaterThan(200);
  });

  it("an upstream's own 5xx is its answer, not Caddy's", () => {
    expect(gatewayError(500, [{ requestId: 'x', upstream: 'a', endMs: 1, durationMs: 1, status: 500 }])).toBeUndefined();
    expect(gatewayError(502, [{ requestId: 'x', upstream: 'a', endMs: 1, durationMs: 1, error: 'dial tcp 127.0.0.1:1: i/o timeout' }])).toBe('connect_failed');
  });

  it('a retried request: every attempt in order, the failed one ends when its round trip did', () => {
    const trip = (id: string, upstream: string, ts: number, extra: string) =>
      `{"level":"debug","ts":${ts},"logger":"http.handlers.reverse_proxy","msg":"upstream roundtrip","upstream":"${upstream}","duration":0.001,"request":{"headers":{"X-Request-Id":["${id}"]}},${extra}}`;
    const log = new CaddyLog();
    log.add(trip('k1', '{http.vars.s1}', 100.001, '"error":"dial tcp 127.0.0.1:1: connect: connection refused"'));
    log.add(trip('k1', '127.0.0.1:41123', 100.253, '"status":200'));
    log.add('{"level":"info","ts":100.254,"logger":"http.log.access.log0","msg":"handled request","request":{"headers":{"X-Request-Id":["k1"]}},"duration":0.254,"status":200}');
    const [k1] = log.records((u) => names[u] ?? u);
    expect(k1.servers).toEqual(['s1', 's3']);
    expect(k1.attempts!.map((a) => [a.server, a.ok, Math.round(a.startMs), Math.round(a.endMs)])).toEqual([['s1', false, 100_000, 100_001], ['s3', true, 100_252, 100_254]]);
  });

  it("active health events become routability; other lines are nobody's request", () => {
    expect(records().health).toEqual([{ host: '127.0.0.1:46627', healthy: false, atMs: expect.closeTo(1796516273533.311, 2) }]);
    expect(parseCaddyLine('not json')).toBeUndefined();
    expect(parseCaddyLine(LINES.find((l) => l.includes('serving initial'))!)).toBeUndefined();
    expect(parseCaddyLine(LINES.find((l) => l.includes('health_checker'))!)).toBeUndefined();
  });
});
