// Process faults under load: SIGKILL and restart, SIGSTOP/SIGCONT, every replica down then
// back, a flapping replica. Each run ends with the history checker (invariants 1–7).
import { afterEach, describe, expect, it } from 'vitest';
import { type Cluster, startCluster } from './cluster.ts';
import { after, describeViolations, runScenario, sleep } from './scenario.ts';

let cluster: Cluster | undefined;
afterEach(async () => { await cluster?.stop(); cluster = undefined; });

const gets = (run: Awaited<ReturnType<typeof runScenario>>) => run.records.filter((r) => r.method === 'GET');

describe('process faults under load', () => {
  it('SIGKILL of a replica, then it comes back on the same port', async () => {
    cluster = await startCluster({ name: 'sigkill', replicas: 3 });
    const c = cluster;
    const run = await runScenario({
      name: 'sigkill', cluster: c, load: { total: 20_000 },
      nemesis: async (t, done) => {
        await after(done, 300);
        t.fault('SIGKILL s2');
        c.replicas[1].kill('SIGKILL');
        await after(done, 700);
        t.fault('restart s2');
        await c.restartReplica(1);
      },
    });
    expect(run.result.violations, describeViolations(run)).toEqual([]);
    // Retries hid the crash from idempotent requests; the restarted s2 served again.
    expect(gets(run).filter((r) => r.outcome.kind === 'response' && r.outcome.status !== 200 || r.outcome.kind !== 'response' && r.outcome.kind !== 'aborted')).toEqual([]);
    expect(c.replicas[1].requests.length).toBeGreaterThan(0);
  });

  it('SIGSTOP then SIGCONT (a hung replica): per-try timeouts, then it rejoins', async () => {
    cluster = await startCluster({ name: 'sigstop', replicas: 3 });
    const c = cluster;
    let stoppedAt = 0;
    const run = await runScenario({
      name: 'sigstop', cluster: c, load: { total: 20_000 },
      nemesis: async (t, done) => {
        await after(done, 300);
        t.fault('SIGSTOP s2 1.5 s');
        c.replicas[1].kill('SIGSTOP');
        stoppedAt = c.replicas[1].requests.length;
        await sleep(1_500);
        c.replicas[1].kill('SIGCONT');
      },
    });
    expect(run.result.violations, describeViolations(run)).toEqual([]);
    expect(gets(run).every((r) => r.outcome.kind === 'response' && r.outcome.status === 200)).toBe(true);
    // Some requests waited on the paused replica; a POST caught there got a gateway timeout, not a second try.
    const stuck = run.records.filter((r) => r.outcome.kind === 'response' && r.outcome.attempts?.startsWith('s2|'));
    expect(stuck.length + run.records.filter((r) => r.outcome.kind === 'response' && r.outcome.proxyError === 'upstream_timeout').length).toBeGreaterThan(0);
    expect(c.replicas[1].requests.length).toBeGreaterThan(stoppedAt); // it took traffic again after SIGCONT
  });

  it('all replicas down, then back: fast gateway errors during the outage, recovery after', async () => {
    cluster = await startCluster({ name: 'total-outage', replicas: 3 });
    const c = cluster;
    const outage: [number, number] = [0, 0];
    let recovered = 0;
    const run = await runScenario({
      name: 'total-outage', cluster: c, load: { total: 20_000 },
      nemesis: async (t, done) => {
        await after(done, 300);
        t.fault('SIGKILL all replicas');
        t.outageBegins();
        outage[0] = performance.now();
        for (const r of c.replicas) r.kill('SIGKILL');
        await sleep(1_000);
        outage[1] = performance.now();
        t.fault('restart all');
        await Promise.all([0, 1, 2].map((i) => c.restartReplica(i)));
        await sleep(1_500); // rise × interval, ejections ending, slack for a loaded machine
        t.outageEnds();
        recovered = performance.now();
      },
    });
    expect(run.result.violations, describeViolations(run)).toEqual([]);
    const during = run.records.filter((r) => r.startMs > outage[0] + 300 && r.endMs < outage[1]);
    expect(during.length).toBeGreaterThan(20);
    // During the outage: gateway errors from the proxy itself, none slower than connect timeout × attempts + slack.
    for (const r of during) {
      expect(r.outcome.kind === 'response' && [502, 503].includes(r.outcome.status) && r.outcome.proxyError, r.rid).toBeTruthy();
    }
    const afterRecovery = run.records.filter((r) => r.startMs > recovered);
    expect(afterRecovery.length).toBeGreaterThan(50);
    expect(afterRecovery.filter((r) => r.outcome.kind !== 'response' || r.outcome.status !== 200)).toEqual([]);
  });

  it('a flapping replica (503 and healthy, every 300 ms)', async () => {
    cluster = await startCluster({ name: 'flapping', replicas: 3 });
    const c = cluster;
    const run = await runScenario({
      name: 'flapping', cluster: c, load: { total: 20_000 },
      nemesis: async (t, done) => {
        await after(done, 200);
        t.fault('s2 flaps 503/ok every 300 ms');
        for (let i = 0; i < 10 && done() < 2_500; i++) {
          await c.replicas[1].setFault(i % 2 === 0 ? { mode: 'error', status: 503 } : { mode: 'normal' });
          await sleep(300);
        }
        await c.replicas[1].setFault({ mode: 'normal' });
      },
    });
    expect(run.result.violations, describeViolations(run)).toEqual([]);
    expect(gets(run).every((r) => r.outcome.kind === 'response' && r.outcome.status === 200)).toBe(true);
    // A 503 is retried for idempotent requests and passed through for a POST, never retried.
    const passed = run.records.filter((r) => r.outcome.kind === 'response' && r.outcome.status === 503);
    expect(passed.every((r) => r.method === 'POST')).toBe(true);
    const metrics = await c.metricsText();
    expect(metrics).toMatch(/fulcrum_ejections_total\{backend="s2"\} [1-9]/);
  });
});
