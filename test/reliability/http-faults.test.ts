// Faults a replica produces on request through its control endpoint, under load: slow
// responses, fast 5xx, resets before the response, resets mid-body.
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientRecord } from './client.ts';
import { type Cluster, ROUTING, startCluster } from './cluster.ts';
import { after, describeViolations, runScenario, sleep } from './scenario.ts';

let cluster: Cluster | undefined;
afterEach(async () => { await cluster?.stop(); cluster = undefined; });

const ok = (r: ClientRecord) => r.outcome.kind === 'response' && r.outcome.status === 200;
const idempotent = (r: ClientRecord) => r.method === 'GET' || r.method === 'PUT';

/** s2 is switched into `fault` for `holdMs` after 300 requests, then back to normal. */
async function withFault(name: string, fault: Parameters<Cluster['replicas'][0]['setFault']>[0], label: string, routing = ROUTING, holdMs = 2_000) {
  cluster = await startCluster({ name, replicas: 3, routing });
  const c = cluster;
  return runScenario({
    name, cluster: c, load: { total: 20_000 }, routing,
    nemesis: async (t, done) => {
      await after(done, 300);
      t.fault(label);
      await c.replicas[1].setFault(fault);
      await sleep(holdMs);
      await c.replicas[1].setFault({ mode: 'normal' });
    },
  });
}

describe('replica faults under load', () => {
  it('slow responses (×300): per-try timeouts move idempotent requests elsewhere', async () => {
    const run = await withFault('slow', { mode: 'slow', factor: 300 }, 's2 slow ×300');
    expect(run.result.violations, describeViolations(run)).toEqual([]);
    expect(run.records.filter(idempotent).every(ok)).toBe(true);
    // A POST caught on the slow replica either finished there or timed out at the gateway; never a second try (checker I3).
    const posts = run.records.filter((r) => r.method === 'POST');
    expect(posts.every((r) => ok(r) || (r.outcome.kind === 'response' && r.outcome.proxyError === 'upstream_timeout'))).toBe(true);
  });

  it('fast 503s: retried for idempotent requests, passed through for POST, s2 ejected', async () => {
    const run = await withFault('fast-5xx', { mode: 'error', status: 503 }, 's2 answers 503');
    expect(run.result.violations, describeViolations(run)).toEqual([]);
    expect(run.records.filter(idempotent).every(ok)).toBe(true);
    const failed = run.records.filter((r) => !ok(r));
    expect(failed.every((r) => r.method === 'POST' && r.outcome.kind === 'response' && r.outcome.status === 503 && r.outcome.attempts === 's2')).toBe(true);
    expect(run.records.some((r) => r.outcome.kind === 'response' && r.outcome.attempts?.startsWith('s2|'))).toBe(true);
    expect(await cluster!.metricsText()).toMatch(/fulcrum_ejections_total\{backend="s2"\} [1-9]/);
  });

  it('resets before the response: idempotent requests retried, a POST gets 502 and is never sent twice', async () => {
    const run = await withFault('reset-before-headers', { mode: 'reset', probability: 0.5 }, 's2 resets before headers (p=0.5)');
    expect(run.result.violations, describeViolations(run)).toEqual([]);
    expect(run.records.filter(idempotent).every(ok)).toBe(true);
    const failed = run.records.filter((r) => !ok(r));
    expect(failed.every((r) => r.method === 'POST' && r.outcome.kind === 'response' && r.outcome.proxyError === 'upstream_reset')).toBe(true);
  });

  it('resets mid-body: the client sees an aborted body, never a short one presented as complete', async () => {
    const run = await withFault('reset-mid-body', { mode: 'reset', probability: 0.3, when: 'mid-body' }, 's2 resets mid-body (p=0.3)');
    expect(run.result.violations, describeViolations(run)).toEqual([]);
    const aborted = run.records.filter((r) => r.outcome.kind === 'aborted');
    expect(aborted.length).toBeGreaterThan(0);
    expect(aborted.every((r) => r.outcome.kind === 'aborted' && r.outcome.status === 200 && r.outcome.attempts?.endsWith('s2'))).toBe(true);
    expect(run.records.filter((r) => !ok(r) && r.outcome.kind !== 'aborted').filter(idempotent)).toEqual([]);
  });

  it('negative control: a proxy configured to retry POST after a reset is caught duplicating it (I3)', async () => {
    const unsafe = { ...ROUTING, retry: { ...ROUTING.retry, idempotentMethods: ['GET', 'PUT', 'POST'] } };
    const run = await withFault('control-post-retried', { mode: 'reset', probability: 0.5 }, 's2 resets; POST wrongly retryable', unsafe);
    const duplicated = run.result.violations.filter((v) => v.invariant === 3);
    expect(duplicated.length).toBeGreaterThan(0);
    expect(duplicated.every((v) => run.records.find((r) => r.rid === v.rid)?.method === 'POST')).toBe(true);
  });
});
