// HAProxy's backend queue in the simulator (--proxy haproxy with maxconn): a request that finds
// every server at maxconn waits until one frees a slot (it then goes to that server), or answers
// 503 when `timeout queue` runs out first.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

interface Summary {
  requests: { total: number; ok: number; failed: number };
  outcomes: Record<string, number>;
  servers: Record<string, { requests: number }>;
  latencyMs: { max: number };
}

function simulate(ratePerSec: number, queueMs: number): Summary {
  const dir = mkdtempSync(join(tmpdir(), 'hapmodels-queue-'));
  const file = join(dir, 'q.json');
  writeFileSync(file, JSON.stringify({
    name: 'q', seed: 1,
    // 3 servers × maxconn 2, 10 ms each: the farm serves 600 requests/s at most.
    servers: { count: 3, template: { serviceTimeMs: { dist: 'constant', value: 10 }, concurrency: 4 } },
    workload: { requests: 600, arrival: { process: 'constant', ratePerSec } },
    proxies: { haproxy: { balance: 'first', maxconn: 2, timeouts: { queueMs } } },
  }));
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'sim/cli.ts', file, '--proxy', 'haproxy', '--out', join(dir, 'out'), '--quiet'], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return JSON.parse(readFileSync(join(dir, 'out', 'summary.json'), 'utf8')) as Summary;
}

describe('HAProxy backend queue (maxconn, timeout queue)', () => {
  it('below capacity nothing waits: first fills s1 and s2 to maxconn and s3 takes the rest', () => {
    const s = simulate(500, 1000);
    expect(s.requests.failed).toBe(0);
    expect(s.latencyMs.max).toBe(10);
    expect(s.servers.s1.requests).toBe(s.servers.s2.requests);
    expect(s.servers.s3.requests).toBeLessThan(s.servers.s1.requests);
  });

  it('above capacity with a long timeout queue every request waits and none fails', () => {
    const s = simulate(1000, 10_000);
    expect(s.requests.failed).toBe(0);
    expect(s.latencyMs.max).toBeGreaterThan(100); // the queue grows: 1000/s offered, 600/s served
  });

  it('above capacity with a short timeout queue the excess answers 503 after waiting at most that long', () => {
    const s = simulate(1000, 5);
    expect(s.outcomes.no_backend).toBeGreaterThan(150); // ~40 % of 600 cannot be served in time
    expect(s.requests.ok + s.outcomes.no_backend).toBe(600);
    expect(s.latencyMs.max).toBeLessThanOrEqual(15);
  });
});
