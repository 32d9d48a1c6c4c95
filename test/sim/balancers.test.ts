// More than one balancer (experiments/balancers.ts): N independent instances in the
// simulator — deterministic, each seeing only its own traffic, one instance exactly as before.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExperimentError, loadExperiment, parseExperiment } from '../../experiments/schema.ts';
import { reachOf } from '../../experiments/balancers.ts';
import { runPlan } from '../../sim/run.ts';
import type { SimRequest } from '../../sim/model/events.ts';
import { Simulation } from '../../sim/model/simulation.ts';
import { MemoryRecorder, configs, hashTree, simulate } from './helpers.ts';

const base = {
  name: 'multi',
  seed: 7,
  servers: { count: 3, template: { serviceTimeMs: { dist: 'exponential', mean: 5 }, concurrency: 2 }, overrides: { s3: { serviceTimeMs: { dist: 'exponential', mean: 25 } } } },
  workload: { requests: 3_000, arrival: { process: 'poisson', ratePerSec: 300 }, clients: { count: 40 } },
  balancer: { policy: 'least-connections' },
};

/** Runs the config and records which instance each request reached, and which clients each instance saw. */
function clientsPerInstance(experiment: object): { seen: Array<Set<number>>; total: number } {
  const [cfg] = configs(experiment);
  const sim = new Simulation(cfg, new MemoryRecorder());
  const seen = sim.instances.map(() => new Set<number>());
  let total = 0;
  sim.instances.forEach((instance, i) => {
    const receive = instance.proxy.receive.bind(instance.proxy);
    instance.proxy.receive = (request: SimRequest, nowMs: number) => { seen[i].add(request.client); total++; receive(request, nowMs); };
  });
  while (!sim.step(1_000_000)) { /* to the end */ }
  return { seen, total };
}

describe('balancers: N independent instances in the simulator', () => {
  it('no field and count 1 give the same bytes (one balancer is unchanged)', async () => {
    const plain = mkdtempSync(join(tmpdir(), 'fulcrum-balancers-'));
    const one = mkdtempSync(join(tmpdir(), 'fulcrum-balancers-'));
    await runPlan(parseExperiment(base, 'plain'), { outDir: plain, writeRequests: true });
    await runPlan(parseExperiment({ ...base, balancers: { count: 1 } }, 'one'), { outDir: one, writeRequests: true });
    expect(await hashTree(one)).toEqual(await hashTree(plain));
  });

  it('the same seed gives byte-identical files with 4 instances, for every reach; another seed differs', async () => {
    for (const reach of ['client-hash', 'random', 'round-robin']) {
      const exp = { ...base, balancers: { count: 4, reach }, health: { active: { intervalMs: 200, timeoutMs: 100 } } };
      const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'fulcrum-balancers-')));
      for (const dir of dirs) await runPlan(parseExperiment(exp, reach), { outDir: dir, writeRequests: true });
      const [a, b] = await Promise.all(dirs.map(hashTree));
      expect(a, reach).toEqual(b);
      const other = mkdtempSync(join(tmpdir(), 'fulcrum-balancers-'));
      await runPlan(parseExperiment({ ...exp, seed: 8 }, reach), { outDir: other, writeRequests: true });
      expect(readFileSync(join(other, 'requests.csv'), 'utf8')).not.toBe(readFileSync(join(dirs[0], 'requests.csv'), 'utf8'));
    }
  });

  it('client-hash: every client reaches exactly one instance, and every instance gets clients', () => {
    const { seen, total } = clientsPerInstance({ ...base, balancers: { count: 4, reach: 'client-hash' } });
    expect(total).toBe(3_000);
    const all = seen.flatMap((s) => [...s]);
    expect(new Set(all).size).toBe(all.length); // no client on two instances
    expect(all.length).toBe(40);
    for (const s of seen) expect(s.size).toBeGreaterThan(0);
  });

  it('round-robin: request i reaches instance i mod N, so each of 4 gets 750 of 3000; random spreads within 10 %', () => {
    const rr = reachOf({ count: 4, reach: 'round-robin', share: 'nothing' }, 7);
    const counts = [0, 0, 0, 0];
    for (let id = 0; id < 3_000; id++) counts[rr(id, id % 40)]++;
    expect(counts).toEqual([750, 750, 750, 750]);
    const random = reachOf({ count: 4, reach: 'random', share: 'nothing' }, 7);
    const spread = [0, 0, 0, 0];
    for (let id = 0; id < 40_000; id++) spread[random(id, 0)]++;
    for (const c of spread) expect(Math.abs(c - 10_000)).toBeLessThan(1_000);
    // with random reach one client's requests reach several instances
    expect(clientsPerInstance({ ...base, balancers: { count: 4, reach: 'random' } }).seen.every((s) => s.size === 40)).toBe(true);
  });

  it('each instance probes on its own: 3 instances send 3 times the probes of one', () => {
    const probes = (count: number) => {
      const [cfg] = configs({ ...base, workload: { ...base.workload, requests: 300 }, balancers: { count }, health: { active: { intervalMs: 100, timeoutMs: 50 } } });
      const sim = new Simulation(cfg, new MemoryRecorder());
      let sent = 0;
      for (const instance of sim.instances) {
        const send = instance.prober!.send.bind(instance.prober);
        instance.prober!.send = (id: string) => { sent++; send(id); };
      }
      while (!sim.step(1_000_000)) { /* to the end */ }
      return { sent, endMs: sim.nowMs };
    };
    const one = probes(1);
    const three = probes(3);
    expect(one.sent).toBeGreaterThan(10);
    expect(three.sent / one.sent).toBeGreaterThan(2.7);
    expect(three.sent / one.sent).toBeLessThan(3.3);
  });

  it('a balancer event names its instance when there are several, and is the core\'s own with one', () => {
    const fixture = parseExperiment(readFileSync('test/sim/fixtures/crash-restart.json', 'utf8'), 'crash-restart.json');
    const cfg = fixture.runs.find((r) => r.variant?.name === 'no-retries')!.config; // s2 crashes; outlier detection ejects it
    const several = simulate({ ...cfg, balancers: { ...cfg.balancers, count: 3, reach: 'round-robin' } }).sim.balancerEvents;
    const ejectedBy = several.filter((e) => e.kind === 'ejected' && e.id === 's2').map((e) => e.balancer);
    expect(new Set(ejectedBy)).toEqual(new Set([0, 1, 2])); // each instance saw s2 fail on its own share of requests
    expect(several.every((e) => e.balancer !== undefined)).toBe(true);
    const one = simulate(cfg).sim.balancerEvents;
    expect(one.some((e) => e.kind === 'ejected')).toBe(true);
    expect(one.every((e) => !('balancer' in e))).toBe(true);
  });

  it('herding: least-connections over 8 partial views sends more to the slow server than one balancer does', () => {
    const toSlow = (count: number) => simulate(configs({ ...base, balancers: { count, reach: 'random' } })[0]).recorder.attempts.get('s3')!.started;
    expect(toSlow(8)).toBeGreaterThan(1.3 * toSlow(1));
  });

  it('a8 at one balancer predicts exactly A-5\'s runs (same servers, traffic and seed)', async () => {
    const [a5, a8] = await Promise.all([loadExperiment('experiments/a5.json'), loadExperiment('experiments/a8.json')]);
    for (const policy of ['least-connections', 'p2c', 'peak-ewma']) {
      const one = a8.runs.find((r) => r.dir === `${policy}/balancers.count=1`)!.config;
      const five = a5.runs.find((r) => r.dir === policy)!.config;
      expect(simulate(one).recorder.requests, policy).toEqual(simulate(five).recorder.requests);
    }
  });

  it('bad input: one line naming the path and the allowed values', () => {
    const problems = (balancers: unknown) => {
      try { parseExperiment({ ...base, balancers }, 'bad'); } catch (e) { return (e as ExperimentError).problems; }
      return [];
    };
    expect(problems({ count: 2, reach: 'dns' })).toEqual([expect.stringMatching(/^balancers\.reach: got "dns"; allowed: "client-hash", "random", "round-robin"/)]);
    expect(problems({ count: 0 })).toEqual([expect.stringMatching(/^balancers\.count: got 0/)]);
    expect(problems({ count: 2, share: 'zone' })).toEqual([expect.stringMatching(/^balancers\.share: got "zone"; allowed: "nothing"/)]);
    expect(problems({ reach: 'random' })).toEqual([expect.stringMatching(/^balancers\.count: missing/)]);
  });
});
