// The engine-agnostic result writer: file names, columns, rounding, timeline buckets.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REQUEST_COLUMNS, ResultWriter, SERVER_COLUMNS, TIMELINE_COLUMNS } from '../../experiments/results.ts';
import { fairness } from '../../experiments/summary.ts';

async function writeSample(writeRequests: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'fulcrum-results-'));
  const w = await ResultWriter.open({
    dir, bucketMs: 100, writeRequests, serverIds: ['s1', 's2'],
    meta: { experiment: 'sample', mode: 'live', seed: 5, policy: 'p2c' },
  });
  // Request 0: s1 answers 200. Request 1: s2 resets, retried on s1, 200. Request 2: s2 503.
  w.attemptStarted('s1', 10); w.attemptEnded('s1', 15.0004, true);
  w.requestDone({ id: 0, client: 3, startMs: 9.5, endMs: 15.5004, status: 200, outcome: 'ok', servers: ['s1'] });
  w.attemptStarted('s2', 20); w.attemptEnded('s2', 30, false);
  w.bucketEnd(100, [{ id: 's1', inFlight: 0, healthy: true }, { id: 's2', inFlight: 1, healthy: false }]);
  w.attemptStarted('s1', 140); w.attemptEnded('s1', 150, true);
  w.requestDone({ id: 1, client: 4, startMs: 19, endMs: 151, status: 200, outcome: 'ok', servers: ['s2', 's1'] });
  w.attemptStarted('s2', 160); w.attemptEnded('s2', 170, false);
  w.requestDone({ id: 2, client: 3, startMs: 159, endMs: 171, status: 503, outcome: 'error', servers: ['s2'] });
  const summary = await w.close({ atMs: 171, servers: [{ id: 's1', inFlight: 0, healthy: true }] });
  return { dir, summary };
}

describe('ResultWriter', () => {
  it('writes the four files with the shared columns', async () => {
    const { dir, summary } = await writeSample(true);
    const read = (f: string) => readFileSync(join(dir, f), 'utf8').trim().split('\n');
    expect(read('requests.csv')).toEqual([
      REQUEST_COLUMNS.join(','),
      '0,3,9.5,15.5,6,200,ok,1,s1',
      '1,4,19,151,132,200,ok,2,s2|s1',
      '2,3,159,171,12,503,error,1,s2',
    ]);
    expect(read('servers.csv')).toEqual([SERVER_COLUMNS.join(','), 's1,2,2,0,0.5', 's2,2,0,2,0.5']);
    expect(read('timeline.csv')).toEqual([
      TIMELINE_COLUMNS.join(','),
      '0,s1,1,0,0,1', '0,s2,1,1,1,0',
      '100,s1,1,0,0,1', '100,s2,1,1,0,0', // s2 missing from the final snapshot: removed
    ]);
    expect(summary).toEqual({
      experiment: 'sample', mode: 'live', seed: 5, policy: 'p2c',
      requests: { total: 3, ok: 2, failed: 1, attempts: 4, retries: 1 },
      outcomes: { ok: 2, error: 1, no_backend: 0, connect_failed: 0, upstream_reset: 0, upstream_timeout: 0, deadline: 0 },
      servers: { s1: { requests: 2, ok: 2, errors: 0 }, s2: { requests: 2, ok: 0, errors: 2 } },
      // 12 ms falls in an 8 µs bucket reported at its middle; the max is exact.
      latencyMs: { mean: 50, p50: 12.004, p90: 132, p99: 132, max: 132 },
      fairness: { maxOverMean: 1, jain: 1 },
      durationMs: 171,
    });
    expect(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'))).toEqual(summary);
    expect(Object.keys(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')))).toEqual([
      'experiment', 'mode', 'seed', 'policy', 'requests', 'outcomes', 'servers', 'latencyMs', 'fairness', 'durationMs',
    ]);
  });

  it('--no-requests leaves requests.csv out and keeps the rest', async () => {
    const { dir } = await writeSample(false);
    expect(() => readFileSync(join(dir, 'requests.csv'))).toThrow(/ENOENT/);
    expect(readFileSync(join(dir, 'servers.csv'), 'utf8')).toContain('s2,2,0,2,0.5');
  });
});

describe('fairness', () => {
  it('is 1 when even, 1/n for Jain when one server takes all, null without traffic', () => {
    expect(fairness([5, 5, 5])).toEqual({ maxOverMean: 1, jain: 1 });
    expect(fairness([9, 0, 0])).toEqual({ maxOverMean: 3, jain: 1 / 3 });
    expect(fairness([0, 0])).toEqual({ maxOverMean: null, jain: null });
  });
});
