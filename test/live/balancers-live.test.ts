// balancers.count live: N real proxy processes on their own ports, the load generator
// spreading requests over them as the simulator does, and the same result files as one.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../../experiments/schema.ts';
import { runLivePlan } from '../../live/runner/run.ts';
import { mergeMembers } from '../../live/runner/proxies/fleet.ts';
import { ProcessRuntime } from '../../live/runner/runtime/process.ts';
import { runPlan } from '../../sim/run.ts';

const exp = {
  name: 'fleet',
  seed: 3,
  servers: { count: 3, template: { serviceTimeMs: { dist: 'exponential', mean: 2 }, concurrency: 4 } },
  workload: { requests: 300, arrival: { process: 'constant', ratePerSec: 200 }, clients: { count: 20 }, path: '/home' },
  balancer: { policy: 'round-robin' },
};

const out = () => mkdtempSync(join(tmpdir(), 'fulcrum-fleet-'));
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const counts = (s: { servers: Record<string, { requests: number }> }) => Object.fromEntries(Object.entries(s.servers).map(([id, v]) => [id, v.requests]));

describe('live: several independent balancers', () => {
  it('3 proxy processes, round-robin reach: per-server counts equal the simulator\'s (not one proxy\'s 100/100/100), same files as one proxy, none left running', async () => {
    const plan = parseExperiment({ ...exp, balancers: { count: 3, reach: 'round-robin' } }, 'fleet');
    const [sim] = await runPlan(plan, { outDir: out(), writeRequests: true });
    const lines: string[] = [];
    const dir = out();
    const [live] = await runLivePlan(plan, { runtime: new ProcessRuntime(), outDir: dir, writeRequests: true, log: (l) => lines.push(l) });
    expect(live.summary.requests).toMatchObject({ total: 300, ok: 300, failed: 0 });
    expect(counts(live.summary)).toEqual(counts(sim.summary));
    expect(counts(sim.summary)).not.toEqual({ s1: 100, s2: 100, s3: 100 }); // each instance runs its own rotation
    const started = lines.map((l) => /\[fulcrum\] pid (\d+) on (\S+)/.exec(l)).filter((m) => m !== null);
    expect(started).toHaveLength(3);
    expect(new Set(started.map((m) => m[2])).size).toBe(3);
    expect(started.map((m) => Number(m[1])).filter(alive)).toEqual([]);

    const oneDir = out();
    await runLivePlan(parseExperiment(exp, 'fleet'), { runtime: new ProcessRuntime(), outDir: oneDir, writeRequests: true, log: () => {} });
    expect(readdirSync(dir).sort()).toEqual(readdirSync(oneDir).sort());
  });

  it('the merged health timeline: a server is routable only while every instance would route to it', () => {
    const up = (atMs: number, s2: boolean) => ({ atMs, servers: [{ id: 's1', routable: true }, { id: 's2', routable: s2 }] });
    const merged = mergeMembers([[up(0, true), up(50, false)], [up(10, true), up(70, false), up(90, true)]]);
    expect(merged.map((r) => [r.atMs, r.servers[1].routable])).toEqual([[0, true], [10, true], [50, false], [70, false], [90, false]]);
    expect(merged.every((r) => r.servers[0].routable)).toBe(true);
  });
});
