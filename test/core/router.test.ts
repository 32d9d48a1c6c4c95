// One request's life through the Router: retries go elsewhere, gateway statuses map
// correctly, the budget and the deadline hold, and the trace tells the story.
import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import { Balancer, BalancerSchema, FulcrumRules, RetrySchema, Router, TimeoutsSchema, type RetryConfig } from '../../core/index.ts';

function router(retry: RetryConfig | null = RetrySchema.parse({}), n = 3) {
  const balancer = new Balancer({ balancer: BalancerSchema.parse({ policy: 'round-robin' }), rng: seedrandom.alea('b') });
  for (let i = 1; i <= n; i++) balancer.add(`s${i}`, { nowMs: 0, initial: true });
  const rules = new FulcrumRules(retry ?? undefined, balancer, seedrandom.alea('r'));
  return new Router({ balancer, timeouts: TimeoutsSchema.parse({ requestMs: 1_000, perTryMs: 300 }), rules, trace: true });
}

const get = { method: 'GET', nowMs: 0, bodyReplayable: true };

describe('Router', () => {
  it('retries a refused connection on another backend and passes the answer on', () => {
    const r = router();
    const flow = r.start(get);
    const first = r.next(flow, 0);
    expect(first).toMatchObject({ kind: 'attempt', attempt: 0, timeoutMs: 300 });
    const retry = r.attemptEnded(flow, 1, { kind: 'connect-error' });
    expect(retry.kind).toBe('retry');
    const second = r.next(flow, 1 + (retry as { delayMs: number }).delayMs);
    expect(second.kind).toBe('attempt');
    expect(flow.path).toHaveLength(2);
    expect(flow.path[1]).not.toBe('s1');
    expect(r.attemptEnded(flow, 20, { kind: 'response', status: 200 })).toEqual({ kind: 'respond', status: 200 });
    expect(flow.ended).toEqual({ ok: true, backendFailure: false });
    expect(r.counts).toEqual({ requests: 1, attempts: 2, retries: 1 });
    expect(r.rules.budget.overflows).toBe(0);
    expect(flow.decisions!.map((d) => d.kind)).toEqual(['pick', 'outcome', 'retry', 'pick', 'outcome']);
  });

  it('maps failures to gateway statuses when it cannot retry', () => {
    const failed = { ok: false, backendFailure: true };
    const cases = [
      [{ kind: 'connect-error' }, { kind: 'fail', status: 502, error: 'connect_failed' }, failed],
      [{ kind: 'reset' }, { kind: 'fail', status: 502, error: 'upstream_reset' }, failed],
      [{ kind: 'timeout' }, { kind: 'fail', status: 504, error: 'upstream_timeout' }, failed],
      [{ kind: 'response', status: 503 }, { kind: 'respond', status: 503 }, failed],
      [{ kind: 'response', status: 501 }, { kind: 'respond', status: 501 }, { ok: false, backendFailure: false }],
      [{ kind: 'response', status: 404 }, { kind: 'respond', status: 404 }, { ok: true, backendFailure: false }],
      [{ kind: 'local-reject', reason: 'body-too-large' }, { kind: 'reject', status: 413, error: 'body_too_large' }, { ok: false, backendFailure: false }],
    ] as const;
    for (const [outcome, step, verdict] of cases) {
      const r = router(null);
      const flow = r.start(get);
      r.next(flow, 0);
      expect(r.attemptEnded(flow, 5, outcome)).toEqual(step);
      expect(flow.ended).toEqual(verdict);
    }
  });

  it('a POST that may have reached the backend is not sent again', () => {
    const r = router();
    const flow = r.start({ method: 'POST', nowMs: 0, bodyReplayable: true });
    r.next(flow, 0);
    expect(r.attemptEnded(flow, 5, { kind: 'reset' })).toMatchObject({ kind: 'fail', status: 502, error: 'upstream_reset' });
    expect(flow.decisions!.at(-2)).toEqual({ kind: 'no-retry', atMs: 5, reason: 'not-idempotent' });
  });

  it('no backend at all → 503 no_backend', () => {
    const r = router(null, 0);
    expect(r.next(r.start(get), 0)).toEqual({ kind: 'fail', status: 503, error: 'no_backend' });
  });

  it('the overall deadline cuts the attempt and answers 504; the per-try timeout never outlasts it', () => {
    const r = router();
    const flow = r.start(get);
    r.next(flow, 0);
    r.attemptEnded(flow, 300, { kind: 'timeout' });
    const step = r.next(flow, 900);
    expect(step).toMatchObject({ kind: 'attempt', timeoutMs: 100 });
    expect(r.deadlineExceeded(flow, 1_000)).toEqual({ kind: 'fail', status: 504, error: 'deadline' });
    expect(r.balancer.backend('s2')!.inFlight).toBe(0);
  });

  it('a timer verdict: the Router knows whether the timer it armed was the per-try timeout or the deadline', () => {
    const r = router(); // requestMs 1000, perTryMs 300
    const flow = r.start(get);
    expect(r.next(flow, 0)).toMatchObject({ timeoutMs: 300 });
    expect(r.attemptTimedOut(flow, 300)).toMatchObject({ kind: 'retry' });
    expect(flow.ended).toEqual({ ok: false, backendFailure: true });
    expect(r.next(flow, 800)).toMatchObject({ kind: 'attempt', timeoutMs: 200 }); // the deadline comes first now
    // Even if the engine's timer fires a hair early, this timer stood for the deadline: 504, no retry.
    expect(r.attemptTimedOut(flow, 999.9999)).toMatchObject({ kind: 'fail', status: 504, error: 'deadline' });
    expect(flow.decisions!.at(-1)).toMatchObject({ kind: 'fail', error: 'deadline' });
    expect(r.balancer.status(1_000).every((s) => s.inFlight === 0)).toBe(true);
  });

  it('the budget bounds concurrent retries and counts the overflow', () => {
    const r = router(RetrySchema.parse({ budget: { ratio: 0, minConcurrent: 1 } }));
    const a = r.start(get), b = r.start(get);
    r.next(a, 0); r.next(b, 0);
    expect(r.attemptEnded(a, 1, { kind: 'connect-error' }).kind).toBe('retry');
    expect(r.attemptEnded(b, 1, { kind: 'connect-error' })).toMatchObject({ kind: 'fail', status: 502, error: 'connect_failed' });
    expect(r.rules.budget.overflows).toBe(1);
    r.next(a, 2);
    r.attemptEnded(a, 3, { kind: 'response', status: 200 });
    expect(r.rules.budget.inUse).toBe(0);
    expect(r.rules.budget.active).toBe(0);
  });

  it('a client abort frees the backend without blaming it', () => {
    const r = router();
    const flow = r.start(get);
    r.next(flow, 0);
    r.clientAborted(flow, 3);
    expect(r.balancer.status(3).every((s) => s.inFlight === 0 && s.routable)).toBe(true);
    expect(r.rules.budget.active).toBe(0);
  });
});
