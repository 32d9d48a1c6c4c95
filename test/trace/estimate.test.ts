// The service-time estimator on hand-made recordings whose true service times are known.
import { describe, expect, it } from 'vitest';
import { ServiceEstimator } from '../../experiments/trace/estimate.ts';

const rec = (atMs: number, upstreamMs: number, server?: string) => ({ line: 0, atMs, client: 'c', upstreamMs, server });

describe('service-time estimator', () => {
  it('an idle server: the logged time less the overhead (never below 0)', () => {
    const e = new ServiceEstimator({ overheadMs: 1, recordedConcurrency: 1 });
    expect([rec(0, 5, 's1'), rec(100, 0.5, 's1')].map((r) => e.estimateMs(r))).toEqual([4, 0]);
  });

  it('one worker: a request that waited behind another is charged only its own service', () => {
    // True services 10, 10, 10 arriving at 0, 1, 2 on one FIFO worker: departures 10, 20, 30.
    const e = new ServiceEstimator({ overheadMs: 0, recordedConcurrency: 1 });
    expect([rec(0, 10, 's1'), rec(1, 19, 's1'), rec(2, 28, 's1')].map((r) => e.estimateMs(r))).toEqual([10, 10, 10]);
  });

  it('two workers: waits only when both are busy; servers are separate queues', () => {
    // s1, 2 workers: services 10, 4, 3 arriving at 0, 1, 2 → departures 10, 5, 8 (the third waits for the second).
    const e = new ServiceEstimator({ overheadMs: 0, recordedConcurrency: 2 });
    const got = [rec(0, 10, 's1'), rec(1, 4, 's1'), rec(1.5, 7, 's2'), rec(2, 6, 's1')].map((r) => e.estimateMs(r));
    expect(got).toEqual([10, 4, 7, 3]);
  });

  it('without recordedConcurrency, or without a logged server, the logged time is all service', () => {
    const e = new ServiceEstimator({ overheadMs: 0 });
    expect([rec(0, 10, 's1'), rec(1, 19, 's1')].map((r) => e.estimateMs(r))).toEqual([10, 19]);
    const f = new ServiceEstimator({ overheadMs: 0, recordedConcurrency: 1 });
    expect([rec(0, 10), rec(1, 19)].map((r) => f.estimateMs(r))).toEqual([10, 19]);
  });
});
