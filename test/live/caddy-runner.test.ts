// `npm run live -- --proxy caddy` end to end (the small experiment CI runs against the real
// Caddy 2.6): exact round robin in the result files, ip_hash where rendezvous hashing over the
// runner's upstream names puts every client, and a crashed server's refused attempts retried.
import { describe, expect, it } from 'vitest';
import { clientAddress } from '../../experiments/workload.ts';
import { rendezvous } from './caddy-rendezvous.ts';
import { CI_EXPERIMENT, requestRows, liveRuns, expectExactRun } from './runner-kit.ts';

const base = { ...CI_EXPERIMENT, seed: 17, balancer: { policy: 'round-robin' } };
const live = liveRuns('caddy');

describe('npm run live -- --proxy caddy', () => {
  it('round robin over 300 requests: exactly 100 each, results marked as Caddy\'s, nothing left running', async () => {
    expectExactRun(await live.run({ ...base, name: 'rr' }), 'caddy', { s1: 100, s2: 100, s3: 100 });
  });

  it('ip-hash: every request on the server rendezvous hashing picks for its client address', async () => {
    const { dir } = await live.run({ ...base, name: 'iphash', balancer: { policy: 'ip-hash' } });
    const rows = requestRows(dir);
    expect(rows).toHaveLength(300);
    for (const row of rows) expect(row.servers).toBe(rendezvous(clientAddress(row.client), ['s1', 's2', 's3']));
    expect(new Set(rows.map((row) => row.servers)).size).toBe(3);
  });

  it('s2 SIGKILLed and restarted, retries on: a refused attempt on s2 is retried on another server', async () => {
    const crash = {
      ...base, name: 'crash',
      workload: { requests: 600, arrival: { process: 'poisson', ratePerSec: 300 }, clients: { count: 20 }, path: '/home' },
      faults: [{ atMs: 500, server: 's2', kind: 'crash', restartAfterMs: 800 }],
      retry: { maxAttempts: 3 },
      timeouts: { connectMs: 200, requestMs: 2_000 },
    };
    const { result: r, dir } = await live.run(crash);
    expect(r.summary.requests.retries).toBeGreaterThan(0);
    const rows = requestRows(dir);
    const retried = rows.filter((x) => x.servers.includes('|'));
    expect(retried.length).toBeGreaterThan(0);
    for (const row of retried) expect(row.servers).toMatch(/^s2\|/);
    // What fails is what was in flight on s2 when it died.
    const failed = rows.filter((x) => x.status !== 200);
    expect(failed.length).toBeLessThanOrEqual(20);
    for (const f of failed) expect(f.startMs).toBeGreaterThan(500 - 300);
  });
});
