// The arrival schedule both engines replay.
import { describe, expect, it } from 'vitest';
import type { WorkloadConfig } from '../../experiments/schema.ts';
import { ClosedLoop, clientAddress, openLoopArrivals } from '../../experiments/workload.ts';
import { configs } from './helpers.ts';

function workload(w: Record<string, unknown>): WorkloadConfig {
  return configs({
    name: 'w', servers: { count: 1, template: { serviceTimeMs: { dist: 'constant', value: 1 } } }, workload: w,
  })[0].workload;
}

describe('clientAddress', () => {
  it('maps client i to loopback 127.x.y.z with n = i + 2 (127.0.0.1 is left to the proxy)', () => {
    expect(clientAddress(0)).toBe('127.0.0.2');
    expect(clientAddress(253)).toBe('127.0.0.255');
    expect(clientAddress(254)).toBe('127.0.1.0');
    expect(clientAddress(70_000)).toBe('127.1.17.114');
    expect(clientAddress(2 ** 24 - 3)).toBe('127.255.255.255');
  });
});

describe('open-loop arrivals', () => {
  it('Poisson: ids in order, times increasing, mean gap 1/rate within a 99.9 % interval', () => {
    const n = 50_000;
    const arrivals = [...openLoopArrivals(workload({ requests: n, arrival: { process: 'poisson', ratePerSec: 2000 } }), 1)];
    expect(arrivals.map((a) => a.id)).toEqual([...Array(n).keys()]);
    expect(arrivals.every((a, i) => i === 0 || a.atMs > arrivals[i - 1].atMs)).toBe(true);
    // Exponential gaps: sd = mean, so the mean of n gaps has sd 0.5/√n ms; 3.29 sd ≈ 99.9 %.
    const meanGapMs = arrivals[n - 1].atMs / n;
    expect(Math.abs(meanGapMs - 0.5)).toBeLessThan((3.29 * 0.5) / Math.sqrt(n));
  });

  it('constant: exactly evenly spaced from 0; durationMs ends the schedule', () => {
    const arrivals = [...openLoopArrivals(workload({ durationMs: 100, arrival: { process: 'constant', ratePerSec: 100 } }), 1)];
    expect(arrivals.map((a) => a.atMs)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
  });

  it('is lazy: a billion-request schedule yields its first arrival at once', () => {
    const it = openLoopArrivals(workload({ requests: 1e9, arrival: { process: 'poisson', ratePerSec: 1e6 } }), 1);
    expect(it.take()?.id).toBe(0);
    expect(it.next().value?.id).toBe(1);
  });

  it('the same seed gives the same schedule; another seed another', () => {
    const w = workload({ requests: 100, arrival: { process: 'poisson', ratePerSec: 100 }, clients: { count: 50 } });
    expect([...openLoopArrivals(w, 7)]).toEqual([...openLoopArrivals(w, 7)]);
    expect([...openLoopArrivals(w, 8)]).not.toEqual([...openLoopArrivals(w, 7)]);
  });

  it('Zipf(s): the top client gets 1/H(n, s) of the requests, within 4 binomial sd', () => {
    const n = 100_000;
    const s = 1.1;
    const clients = 1000;
    const w = workload({ requests: n, arrival: { process: 'constant', ratePerSec: 1000 }, clients: { count: clients, popularity: { dist: 'zipf', s } } });
    const counts = new Array<number>(clients).fill(0);
    for (const a of openLoopArrivals(w, 3)) counts[a.client]++;
    let harmonic = 0;
    for (let k = 1; k <= clients; k++) harmonic += k ** -s;
    for (const rank of [1, 2, 10]) {
      const p = rank ** -s / harmonic;
      expect(Math.abs(counts[rank - 1] - n * p)).toBeLessThan(4 * Math.sqrt(n * p * (1 - p)));
    }
  });
});

describe('closed-loop users', () => {
  const w = workload({
    requests: 40, arrival: { process: 'closed', concurrency: 4, thinkTimeMs: { dist: 'exponential', mean: 10 } }, clients: { count: 100 },
  });

  it('each user draws the same think times and clients whatever order responses come back in', () => {
    const trace = (order: number[]) => {
      const loop = new ClosedLoop(w, 5);
      const perUser = new Map<number, Array<[number, number]>>();
      for (const a of loop.start()) perUser.set(a.user!, [[a.atMs, a.client]]);
      for (let round = 0; round < 5; round++) {
        for (const u of order) {
          const a = loop.after(u, 100 * round)!;
          perUser.get(u)!.push([a.atMs - 100 * round, a.client]);
        }
      }
      return perUser;
    };
    const forward = trace([0, 1, 2, 3]);
    const backward = trace([3, 2, 1, 0]);
    for (let u = 0; u < 4; u++) expect(backward.get(u)).toEqual(forward.get(u));
  });

  it('issues exactly `requests` requests', () => {
    const loop = new ClosedLoop(w, 5);
    let issued = [...loop.start()].length;
    while (loop.after(issued % 4, 0)) issued++;
    expect(issued).toBe(40);
  });
});
