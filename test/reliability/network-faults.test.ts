// Network faults signals cannot make, from the TCP fault proxy between Fulcrum and s2:
// connections closed mid-body (data limit), resets before and after the response
// headers, and added latency with a bandwidth cap.
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientRecord } from './client.ts';
import { type Cluster, startCluster } from './cluster.ts';
import type { Toxics } from './fault-proxy.ts';
import { after, describeViolations, runScenario, sleep } from './scenario.ts';

let cluster: Cluster | undefined;
afterEach(async () => { await cluster?.stop(); cluster = undefined; });

const ok = (r: ClientRecord) => r.outcome.kind === 'response' && r.outcome.status === 200;
const idempotent = (r: ClientRecord) => r.method === 'GET' || r.method === 'PUT';

async function withToxics(name: string, toxics: Toxics, label: string, holdMs = 2_000) {
  cluster = await startCluster({ name, replicas: 3, faultProxies: true });
  const c = cluster;
  const run = await runScenario({
    name, cluster: c, load: { total: 20_000 },
    nemesis: async (t, done) => {
      await after(done, 300);
      t.fault(label);
      c.faultProxies[1].toxics = toxics;
      await sleep(holdMs);
      c.faultProxies[1].toxics = {};
    },
  });
  return { run, c };
}

describe('network faults under load (TCP fault proxy in front of s2)', () => {
  it('connection closed after 30 kB (mid-body for large answers): aborted, never truncated-as-complete', async () => {
    const { run } = await withToxics('close-mid-body', { limitDataBytes: 30_000 }, 's2 link closes after 30 kB');
    expect(run.result.violations, describeViolations(run)).toEqual([]);
    expect(run.records.filter((r) => r.outcome.kind === 'aborted').length).toBeGreaterThan(0);
    // Everything that did not abort mid-body was answered; idempotent requests all succeeded.
    expect(run.records.filter(idempotent).filter((r) => !ok(r) && r.outcome.kind !== 'aborted')).toEqual([]);
  });

  it('reset before the response headers (RST on accept)', async () => {
    const { run } = await withToxics('net-reset-before-headers', { resetAfterBytes: 0 }, 's2 link resets on connect');
    expect(run.result.violations, describeViolations(run)).toEqual([]);
    expect(run.records.filter(idempotent).every(ok)).toBe(true);
    // The request may have left the proxy, so a POST is not retried: 502, and the replica never saw it.
    const failed = run.records.filter((r) => !ok(r));
    expect(failed.every((r) => r.method === 'POST' && r.outcome.kind === 'response' && r.outcome.status === 502)).toBe(true);
  });

  it('reset after the response headers (RST after 400 bytes)', async () => {
    const { run } = await withToxics('net-reset-after-headers', { resetAfterBytes: 400 }, 's2 link resets after 400 B');
    expect(run.result.violations, describeViolations(run)).toEqual([]);
    expect(run.records.filter((r) => r.outcome.kind === 'aborted').length).toBeGreaterThan(0);
    expect(run.records.filter(idempotent).filter((r) => !ok(r) && r.outcome.kind !== 'aborted')).toEqual([]);
  });

  it('latency 300 ms and 200 kB/s on s2: slower, nothing lost', async () => {
    const { run, c } = await withToxics('latency-bandwidth', { latencyMs: 300, bandwidthBytesPerSec: 200_000 }, 's2 link +300 ms, 200 kB/s');
    expect(run.result.violations, describeViolations(run)).toEqual([]);
    expect(run.records.every(ok)).toBe(true);
    expect(c.replicas[1].requests.length).toBeGreaterThan(0);
  });
});
