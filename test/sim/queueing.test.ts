// The simulator against queueing theory, with no network delay so the client-observed
// latency is the response time (queueing + service). Tolerance: see batch-means.ts.
import { describe, it } from 'vitest';
import { configs } from './helpers.ts';
import { expectWithin, latencies } from './batch-means.ts';

function experiment(o: { servers: number; service: object; ratePerSec: number; requests: number; policy: string }) {
  return configs({
    name: 'queueing', seed: 2024,
    servers: { count: o.servers, template: { serviceTimeMs: o.service, concurrency: 1 } },
    workload: { requests: o.requests, arrival: { process: 'poisson', ratePerSec: o.ratePerSec } },
    balancer: { policy: o.policy },
  })[0];
}

describe('queueing theory (batch means, 99 % CI)', () => {
  it('random dispatch over 4 exponential servers: each is M/M/1, T = 1/(μ − λ/N)', () => {
    // μ = 1 per ms per server, λ/N = 0.7 per ms: T = 1 / 0.3 = 3.333 ms.
    const cfg = experiment({ servers: 4, service: { dist: 'exponential', mean: 1 }, ratePerSec: 2800, requests: 400_000, policy: 'random' });
    expectWithin(latencies(cfg), 1 / (1 - 0.7));
  });

  it('one exponential server is M/M/1: T = 1/(μ − λ)', () => {
    const cfg = experiment({ servers: 1, service: { dist: 'exponential', mean: 1 }, ratePerSec: 700, requests: 500_000, policy: 'round-robin' });
    expectWithin(latencies(cfg), 1 / (1 - 0.7));
  });

  it('one constant-time server is M/D/1: T = S + ρS / (2(1 − ρ)) (Pollaczek–Khinchine)', () => {
    const rho = 0.7;
    const cfg = experiment({ servers: 1, service: { dist: 'constant', value: 1 }, ratePerSec: 700, requests: 200_000, policy: 'round-robin' });
    expectWithin(latencies(cfg), 1 + rho / (2 * (1 - rho)));
  });
});
