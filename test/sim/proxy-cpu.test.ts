// The proxy's CPU station (network.proxyCpu): against queueing theory when the proxy is the
// only bottleneck (servers answer at once, no network), and the exact cost of each job kind
// when nothing queues. Tolerance of the theory checks: see batch-means.ts.
import { describe, expect, it } from 'vitest';
import { configs, simulate } from './helpers.ts';
import { expectWithin, latencies } from './batch-means.ts';

/** Servers that answer in 0 ms and never queue: every wait is the proxy's. */
function proxyBound(o: { proxyCpu: object; arrival: object; requests: number; extra?: object }) {
  return configs({
    name: 'proxy-cpu', seed: 2026,
    servers: { count: 2, template: { serviceTimeMs: { dist: 'constant', value: 0 }, concurrency: 100_000 } },
    workload: { requests: o.requests, arrival: o.arrival },
    network: { proxyCpu: o.proxyCpu },
    ...o.extra,
  })[0];
}

/** Erlang C: the chance an arrival waits at an M/M/c queue with offered load a = λ/μ. */
function erlangC(c: number, a: number): number {
  let term = 1;
  let sum = 1;
  for (let k = 1; k < c; k++) { term *= a / k; sum += term; }
  const top = (term * a) / c / (1 - a / c);
  return top / (sum + top);
}

describe('the proxy CPU station against queueing theory (batch means, 99 % CI)', () => {
  it('one worker, constant CPU per request: M/D/1, T = S + ρS / (2(1 − ρ))', () => {
    // S = 0.1 ms, λ = 7 per ms: ρ = 0.7.
    const cfg = proxyBound({ proxyCpu: { requestMs: { dist: 'constant', value: 0.1 } }, arrival: { process: 'poisson', ratePerSec: 7_000 }, requests: 200_000 });
    expectWithin(latencies(cfg), 0.1 + (0.7 * 0.1) / (2 * 0.3));
  });

  it('two workers, exponential CPU per request: M/M/2, T = 1/μ + C(2, a) / (2μ − λ)', () => {
    // 1/μ = 0.5 ms, λ = 2.8 per ms: a = 1.4, ρ = 0.7.
    const cfg = proxyBound({
      proxyCpu: { requestMs: { dist: 'exponential', mean: 0.5 }, workers: 2 },
      arrival: { process: 'poisson', ratePerSec: 2_800 }, requests: 400_000,
    });
    expectWithin(latencies(cfg), 0.5 + erlangC(2, 1.4) / (2 * 2 - 2.8));
  });

  it('eight workers at the same load: M/M/8 (Erlang C), the wait nearly gone', () => {
    const cfg = proxyBound({
      proxyCpu: { requestMs: { dist: 'exponential', mean: 0.5 }, workers: 8 },
      arrival: { process: 'poisson', ratePerSec: 2_800 }, requests: 400_000,
    });
    expectWithin(latencies(cfg), 0.5 + erlangC(8, 1.4) / (8 * 2 - 2.8));
  });
});

describe('the proxy CPU station, job by job', () => {
  const sparse = { process: 'constant', ratePerSec: 1 };

  it('a request costs its way in and its response its way out, nothing else when nothing queues', () => {
    const cfg = proxyBound({ proxyCpu: { requestMs: { dist: 'constant', value: 0.04 }, responseMs: { dist: 'constant', value: 0.02 } }, arrival: sparse, requests: 20 });
    const { recorder } = simulate(cfg);
    expect(recorder.requests).toHaveLength(20);
    for (const r of recorder.requests) expect(r.endMs - r.startMs).toBeCloseTo(0.06, 9);
  });

  it('each retry attempt costs retryMs (default: requestMs + responseMs, a whole request) on top', () => {
    const extra = {
      faults: [{ atMs: 0, server: 's1', kind: 'errors', probability: 1, status: 503 }],
      retry: { maxAttempts: 2, backoffBaseMs: 0, backoffMaxMs: 0 },
    };
    const c = (value: number) => ({ dist: 'constant', value });
    for (const [proxyCpu, plainMs, retryCostMs] of [
      [{ requestMs: c(0.04), retryMs: c(0.01) }, 0.04, 0.01],
      [{ requestMs: c(0.04) }, 0.04, 0.04],
      [{ requestMs: c(0.04), responseMs: c(0.02) }, 0.06, 0.06],
      [{ requestMs: c(0.04), responseMs: { dist: 'uniform', min: 0.02, max: 0.02 } }, 0.06, 0.06],
    ] as const) {
      const { recorder } = simulate(proxyBound({ proxyCpu, arrival: sparse, requests: 20, extra }));
      const retried = recorder.requests.filter((r) => r.servers.length === 2);
      expect(retried.length).toBe(10); // round robin: every other request starts on s1
      for (const r of recorder.requests) {
        expect(r.endMs - r.startMs).toBeCloseTo(r.servers.length === 2 ? plainMs + retryCostMs : plainMs, 9);
      }
    }
  });

  it('one worker serves in arrival order: a burst leaves at one CPU time apart', () => {
    // Constant arrivals 0.05 ms apart, 0.1 ms each: the n-th (from 0) waits n × 0.05 ms.
    const cfg = proxyBound({ proxyCpu: { requestMs: { dist: 'constant', value: 0.1 } }, arrival: { process: 'constant', ratePerSec: 20_000 }, requests: 50 });
    const { recorder } = simulate(cfg);
    const byId = [...recorder.requests].sort((a, b) => a.id - b.id);
    byId.forEach((r, n) => expect(r.endMs - r.startMs).toBeCloseTo(0.1 + n * 0.05, 6));
  });

  it('zero CPU is no station: the run is the one without proxyCpu, request for request', () => {
    const zero = { dist: 'constant', value: 0 };
    const base = { arrival: { process: 'poisson', ratePerSec: 500 }, requests: 2_000 };
    const withStation = simulate(proxyBound({ ...base, proxyCpu: { requestMs: zero, responseMs: zero } })).recorder.requests;
    const cfg = proxyBound({ ...base, proxyCpu: { requestMs: zero } });
    delete cfg.network.proxyCpu;
    expect(withStation).toEqual(simulate(cfg).recorder.requests);
  });

  it('random CPU times come from their own seeded stream: same seed, same run', () => {
    const cfg = proxyBound({ proxyCpu: { requestMs: { dist: 'exponential', mean: 0.2 }, responseMs: { dist: 'lognormal', median: 0.05, sigma: 1 } }, arrival: { process: 'poisson', ratePerSec: 3_000 }, requests: 5_000 });
    expect(simulate(cfg).recorder.requests).toEqual(simulate(cfg).recorder.requests);
  });
});
