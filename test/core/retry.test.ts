// The retry table, backoff bounds, Retry-After parsing and the budget.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import seedrandom from 'seedrandom';
import {
  type FailurePoint, type RetryQuestion, RetryBudget, RetrySchema, backoffDelayMs, decideRetry, parseRetryAfterMs,
} from '../../core/index.ts';

const cfg = RetrySchema.parse({ maxAttempts: 3 });
const rng = seedrandom.alea('retry');

function ask(method: string, failure: FailurePoint, over: Partial<RetryQuestion> = {}) {
  return decideRetry(cfg, {
    method, failure, attempt: 0, bodyReplayable: true, responseStarted: false,
    nowMs: 0, deadlineMs: 10_000, otherBackendAvailable: true, ...over,
  }, rng);
}

describe('the retry table (NGINX split + Envoy conditions)', () => {
  const connect: FailurePoint = { kind: 'connect' };
  const reset: FailurePoint = { kind: 'reset' };
  const timeout: FailurePoint = { kind: 'timeout' };
  const s503: FailurePoint = { kind: 'status', status: 503 };
  const s500: FailurePoint = { kind: 'status', status: 500 };
  const s404: FailurePoint = { kind: 'status', status: 404 };

  it.each([
    // method, failure, retried?
    ['GET', connect, true], ['POST', connect, true], ['PATCH', connect, true], // never sent: always safe
    ['GET', reset, true], ['POST', reset, false], ['PATCH', reset, false],
    ['GET', timeout, true], ['POST', timeout, false],
    ['GET', s503, true], ['HEAD', s503, true], ['PUT', s503, true], ['DELETE', s503, true], ['POST', s503, false],
    ['GET', s500, false], ['GET', s404, false], ['POST', s404, false],
  ] as const)('%s after %o → retry %s', (method, failure, retried) => {
    expect(ask(method, failure).retry).toBe(retried);
  });

  it('never retries once the response started', () => {
    expect(ask('GET', { kind: 'reset' }, { responseStarted: true })).toEqual({ retry: false, reason: 'response-started' });
  });

  it('never retries a body that cannot be replayed, unless it was never sent', () => {
    expect(ask('PUT', { kind: 'reset' }, { bodyReplayable: false })).toEqual({ retry: false, reason: 'body-not-replayable' });
    expect(ask('PUT', { kind: 'connect' }, { bodyReplayable: false }).retry).toBe(true);
  });

  it('stops at maxAttempts (the first attempt included)', () => {
    expect(ask('GET', { kind: 'connect' }, { attempt: 1 }).retry).toBe(true);
    expect(ask('GET', { kind: 'connect' }, { attempt: 2 })).toEqual({ retry: false, reason: 'attempts-exhausted' });
  });

  it('needs another backend: retries never go back to one already tried', () => {
    expect(ask('GET', { kind: 'connect' }, { otherBackendAvailable: false })).toEqual({ retry: false, reason: 'no-other-backend' });
  });

  it('respects the overall deadline, backoff included', () => {
    expect(ask('GET', { kind: 'connect' }, { nowMs: 10_000 })).toEqual({ retry: false, reason: 'deadline' });
  });

  it('is off without a retry section', () => {
    expect(decideRetry(undefined, {
      method: 'GET', failure: { kind: 'connect' }, attempt: 0, bodyReplayable: true, responseStarted: false,
      nowMs: 0, deadlineMs: 1e9, otherBackendAvailable: true,
    }, rng)).toEqual({ retry: false, reason: 'disabled' });
  });

  it('honours Retry-After on a retried 503, capped at retryAfterMaxMs', () => {
    const a = ask('GET', { kind: 'status', status: 503, retryAfter: '0' });
    expect(a.retry).toBe(true);
    const b = ask('GET', { kind: 'status', status: 503, retryAfter: '120' });
    expect(b).toEqual({ retry: true, delayMs: cfg.retryAfterMaxMs });
  });
});

describe('full-jitter exponential backoff', () => {
  it('stays in [0, min(max, base × 2^attempt))', () => {
    fc.assert(fc.property(fc.nat(20), fc.nat(1_000), fc.nat(10_000), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      (attempt, baseMs, extraMs, u) => {
        const c = { backoffBaseMs: baseMs, backoffMaxMs: baseMs + extraMs };
        const d = backoffDelayMs(c, attempt, () => u);
        expect(d).toBeGreaterThanOrEqual(0);
        const ceiling = Math.min(c.backoffMaxMs, baseMs * 2 ** attempt);
        if (ceiling > 0) expect(d).toBeLessThan(ceiling);
        else expect(d).toBe(0);
      }));
  });

  it('uses the whole range (full jitter, not equal jitter)', () => {
    const r = seedrandom.alea('jitter');
    const delays = Array.from({ length: 2_000 }, () => backoffDelayMs({ backoffBaseMs: 25, backoffMaxMs: 250 }, 3, r));
    expect(Math.min(...delays)).toBeLessThan(5);
    expect(Math.max(...delays)).toBeGreaterThan(195);
  });
});

describe('Retry-After', () => {
  const now = Date.parse('Tue, 24 Nov 2026 12:00:00 GMT');
  it.each([
    ['0', 0], ['5', 5_000], [' 30 ', 30_000],
    ['Tue, 24 Nov 2026 12:00:10 GMT', 10_000],
    ['Tue, 24 Nov 2026 11:59:00 GMT', 0], // in the past: no wait
  ])('%j → %d ms', (value, expected) => {
    expect(parseRetryAfterMs(value, now)).toBe(expected);
  });

  it.each(['', '-1', '1.5', 'soon', '5s', 'Tue, 24 Nov 2026 12:00:10', 'Someday, 99 Foo 2026 12:00:10 GMT'])('rejects %j', (value) => {
    expect(parseRetryAfterMs(value, now)).toBeUndefined();
  });
});

describe('retry budget (Envoy retry_budget)', () => {
  it('allows max(minConcurrent, ratio × active) concurrent retries and counts overflows', () => {
    const b = new RetryBudget({ ratio: 0.2, minConcurrent: 3 });
    for (let i = 0; i < 10; i++) b.requestStarted();
    expect([b.tryAcquire(), b.tryAcquire(), b.tryAcquire(), b.tryAcquire()]).toEqual([true, true, true, false]);
    expect(b.overflows).toBe(1);
    for (let i = 0; i < 40; i++) b.requestStarted(); // 50 active → 10 allowed
    let granted = 0;
    while (b.tryAcquire()) granted++;
    expect(b.inUse).toBe(10);
    expect(granted).toBe(7);
    b.release();
    expect(b.tryAcquire()).toBe(true);
  });

  it('is charged only when everything else says retry', () => {
    const b = new RetryBudget({ ratio: 0, minConcurrent: 0 });
    const q: RetryQuestion = {
      method: 'POST', failure: { kind: 'reset' }, attempt: 0, bodyReplayable: true, responseStarted: false,
      nowMs: 0, deadlineMs: 1e6, otherBackendAvailable: true,
    };
    expect(decideRetry(cfg, q, rng, b)).toEqual({ retry: false, reason: 'not-idempotent' });
    expect(b.overflows).toBe(0);
    expect(decideRetry(cfg, { ...q, method: 'GET' }, rng, b)).toEqual({ retry: false, reason: 'budget' });
    expect(b.overflows).toBe(1);
  });

  it('never lets concurrent retries exceed the bound, over any sequence', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom('start', 'end', 'retry', 'release')), (ops) => {
      const b = new RetryBudget({ ratio: 0.2, minConcurrent: 3 });
      for (const op of ops) {
        if (op === 'start') b.requestStarted();
        else if (op === 'end' && b.active > 0) b.requestEnded();
        else if (op === 'retry') {
          const before = b.inUse;
          if (b.tryAcquire()) expect(before + 1).toBeLessThanOrEqual(Math.max(3, 0.2 * b.active));
        } else if (op === 'release' && b.inUse > 0) b.release();
      }
    }));
  });
});
