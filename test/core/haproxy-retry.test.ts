// HAProxy's retry rules (core/haproxy-retry.ts) and the Router's HAProxy mode: a retry stays
// on the same server after the turn-around unless redispatched; a redispatch avoids only the
// previous server; retry-on decides what is retried, whatever the method.
import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import { Balancer, BalancerSchema, Router, TimeoutsSchema } from '../../core/index.ts';
import { type HaproxyRetryRules, HaproxyRules, decideHaproxyRetry, retriesOn } from '../../core/haproxy-retry.ts';

const rules = (o: Partial<HaproxyRetryRules> = {}): HaproxyRetryRules => ({
  retries: 3, retryOn: ['conn-failure'], connectMs: 300, hashBalance: false, ...o,
});
const connect = { kind: 'connect' } as const;

describe('decideHaproxyRetry', () => {
  it('no redispatch: same server, min(timeout connect, 1 s) turn-around after a refused connection (haproxy-facts §1)', () => {
    expect(decideHaproxyRetry(rules(), { failure: connect, retriesDone: 0, usableServers: 3, serverUp: true }))
      .toEqual({ retry: true, redispatch: false, delayMs: 300 });
    expect(decideHaproxyRetry(rules({ connectMs: 3000 }), { failure: connect, retriesDone: 2, usableServers: 3, serverUp: true }))
      .toEqual({ retry: true, redispatch: false, delayMs: 1000 });
    expect(decideHaproxyRetry(rules(), { failure: connect, retriesDone: 3, usableServers: 3, serverUp: true })).toEqual({ retry: false });
  });

  it('redispatch on a non-hash balance with more than one server: every retry, at once (2.6.12, haproxy-facts §2)', () => {
    expect(decideHaproxyRetry(rules({ redispatch: -1 }), { failure: connect, retriesDone: 0, usableServers: 3, serverUp: true }))
      .toEqual({ retry: true, redispatch: true, delayMs: 0 });
    expect(decideHaproxyRetry(rules({ redispatch: -1 }), { failure: connect, retriesDone: 0, usableServers: 1, serverUp: true }))
      .toEqual({ retry: true, redispatch: false, delayMs: 300 });
  });

  it('hash balance: redispatch on the interval only; -1 is the last retry (haproxy-facts §3)', () => {
    const hash = rules({ redispatch: -1, hashBalance: true });
    const at = (retriesDone: number) => decideHaproxyRetry(hash, { failure: connect, retriesDone, usableServers: 3, serverUp: true });
    expect([0, 1, 2].map((d) => at(d))).toEqual([
      { retry: true, redispatch: false, delayMs: 300 },
      { retry: true, redispatch: false, delayMs: 300 },
      { retry: true, redispatch: true, delayMs: 0 },
    ]);
    const every2 = rules({ redispatch: 2, hashBalance: true });
    expect([0, 1, 2].map((d) => decideHaproxyRetry(every2, { failure: connect, retriesDone: d, usableServers: 3, serverUp: true })))
      .toMatchObject([{ redispatch: false }, { redispatch: true }, { redispatch: false }]);
    expect(decideHaproxyRetry(hash, { failure: connect, retriesDone: 0, usableServers: 3, serverUp: false })).toMatchObject({ redispatch: true });
  });

  it('retry-on: keywords, statuses, all-retryable-errors and none', () => {
    expect(retriesOn(rules(), { kind: 'reset' })).toBe(false);
    expect(retriesOn(rules({ retryOn: ['empty-response'] }), { kind: 'reset' })).toBe(true);
    expect(retriesOn(rules({ retryOn: ['response-timeout'] }), { kind: 'timeout' })).toBe(true);
    expect(retriesOn(rules({ retryOn: ['503'] }), { kind: 'status', status: 503 })).toBe(true);
    expect(retriesOn(rules({ retryOn: ['503'] }), { kind: 'status', status: 502 })).toBe(false);
    expect(retriesOn(rules({ retryOn: ['all-retryable-errors'] }), { kind: 'status', status: 504 })).toBe(true);
    expect(retriesOn(rules({ retryOn: ['all-retryable-errors'] }), { kind: 'status', status: 501 })).toBe(false);
    expect(retriesOn(rules({ retryOn: ['none', 'conn-failure'] }), connect)).toBe(false);
  });
});

describe('Router in HAProxy mode', () => {
  function router(r: HaproxyRetryRules, policy = 'haproxy-roundrobin') {
    const balancer = new Balancer({ balancer: BalancerSchema.parse({ policy, panicThresholdPercent: 0 }), rng: seedrandom.alea('b') });
    for (let i = 1; i <= 3; i++) balancer.add(`s${i}`, { nowMs: 0, initial: true });
    return new Router({ balancer, timeouts: TimeoutsSchema.parse({ requestMs: 1e9, perTryMs: 1000 }), rules: new HaproxyRules(r, balancer) });
  }
  const post = { method: 'POST', nowMs: 0, bodyReplayable: true };

  it('without redispatch every retry reconnects to the same server, then 503 (SC--)', () => {
    const r = router(rules({ retries: 2 }));
    const flow = r.start(post);
    r.next(flow, 0);
    expect(r.attemptEnded(flow, 0, { kind: 'connect-error' })).toEqual({ kind: 'retry', delayMs: 300 });
    r.next(flow, 300);
    expect(r.attemptEnded(flow, 300, { kind: 'connect-error' })).toEqual({ kind: 'retry', delayMs: 300 });
    r.next(flow, 600);
    expect(r.attemptEnded(flow, 600, { kind: 'connect-error' })).toEqual({ kind: 'fail', status: 503, error: 'connect_failed' });
    expect(flow.path).toEqual(['s1', 's1', 's1']);
  });

  it('with redispatch the retry goes to the next server at once, and the redispatch consumes a round-robin turn', () => {
    const r = router(rules({ retries: 2, redispatch: -1 }));
    const flow = r.start(post);
    r.next(flow, 0);
    expect(r.attemptEnded(flow, 0, { kind: 'connect-error' })).toEqual({ kind: 'retry', delayMs: 0 });
    r.next(flow, 0);
    expect(r.attemptEnded(flow, 1, { kind: 'response', status: 200 })).toEqual({ kind: 'respond', status: 200 });
    expect(flow.path).toEqual(['s1', 's2']);
    const next = r.start(post);
    r.next(next, 2);
    expect(next.path).toEqual(['s3']);
  });

  it('L7 retries follow retry-on, for any method (no idempotency rule), without delay', () => {
    const r = router(rules({ retries: 1, retryOn: ['503'] }));
    const flow = r.start(post);
    r.next(flow, 0);
    expect(r.attemptEnded(flow, 1, { kind: 'response', status: 503 })).toEqual({ kind: 'retry', delayMs: 0 });
    r.next(flow, 1);
    expect(r.attemptEnded(flow, 2, { kind: 'response', status: 503 })).toEqual({ kind: 'respond', status: 503 });
    const other = r.start(post);
    r.next(other, 3);
    expect(r.attemptEnded(other, 3, { kind: 'reset' })).toEqual({ kind: 'fail', status: 502, error: 'upstream_reset' });
  });
});
