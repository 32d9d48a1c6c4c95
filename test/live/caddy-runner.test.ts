// `npm run live -- --proxy caddy` end to end (the small experiment CI runs against the real
// Caddy 2.6): exact round robin in the result files, ip_hash where rendezvous hashing over the
// runner's upstream names puts every client, and a crashed server's refused attempts retried.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../../experiments/schema.ts';
import { clientAddress } from '../../experiments/workload.ts';
import { runLivePlan } from '../../live/runner/run.ts';
import { ProcessRuntime } from '../../live/runner/runtime/process.ts';
import { rendezvous } from './caddy-rendezvous.ts';
import { CI_EXPERIMENT, isRunning, requestRows, requestsByServer, resultsFolders } from './runner-kit.ts';

const base = { ...CI_EXPERIMENT, seed: 17, balancer: { policy: 'round-robin' } };
const out = resultsFolders('caddy');
const quiet = () => {};

describe('npm run live -- --proxy caddy', () => {
  it('round robin over 300 requests: exactly 100 each, results marked as Caddy\'s, nothing left running', async () => {
    const runtime = new ProcessRuntime();
    const dir = out();
    const [r] = await runLivePlan(parseExperiment({ ...base, name: 'rr' }, 'rr'), { runtime, proxy: 'caddy', outDir: dir, writeRequests: true, log: quiet });
    expect(r.summary.requests).toMatchObject({ total: 300, ok: 300, failed: 0, retries: 0 });
    expect(requestsByServer(r.summary.servers)).toEqual({ s1: 100, s2: 100, s3: 100 });
    expect(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).proxy).toBe('caddy');
    expect(runtime.pids.filter(isRunning)).toEqual([]);
  });

  it('ip-hash: every request on the server rendezvous hashing picks for its client address', async () => {
    const dir = out();
    await runLivePlan(parseExperiment({ ...base, name: 'iphash', balancer: { policy: 'ip-hash' } }, 'iphash'), { runtime: new ProcessRuntime(), proxy: 'caddy', outDir: dir, writeRequests: true, log: quiet });
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
    const dir = out();
    const [r] = await runLivePlan(parseExperiment(crash, 'crash'), { runtime: new ProcessRuntime(), proxy: 'caddy', outDir: dir, writeRequests: true, log: quiet });
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
