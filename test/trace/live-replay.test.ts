// Live replay of a trace, on real processes: each request's service time travels to the
// replica beside the control token (http/replay.ts) and is honoured there; without the token
// a client cannot set it. Per-server counts match the simulator's replay for the
// deterministic policies.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../../experiments/schema.ts';
import { runLivePlan } from '../../live/runner/run.ts';
import { ProcessRuntime } from '../../live/runner/runtime/process.ts';
import { runPlan } from '../../sim/run.ts';
import { buildReplica } from '../../server/replica.ts';
import { replayHeaders } from '../../http/replay.ts';
import { tempDir, traceFile } from './helpers.ts';

const SERVICE_MS = 15;
/** The replicas' own service time: a replayed request that did not get its own would take this long. */
const OWN_MS = 2_000;
const quiet = () => {};

function trace(): string {
  const lines = ['timestamp,client,method,path,serviceMs'];
  for (let i = 0; i < 120; i++) lines.push(`${1_000 + 10 * i},${(i * 7) % 10},GET,/home,${SERVICE_MS}`);
  return traceFile('t.csv', lines);
}

const experiment = (file: string) => ({
  name: 'live-replay', seed: 3,
  servers: { count: 3, template: { serviceTimeMs: { dist: 'constant', value: OWN_MS }, concurrency: 20 } },
  workload: { trace: { file, format: 'csv' } },
  variants: [
    { name: 'rr', set: { 'balancer.policy': 'round-robin' } },
    { name: 'ip-hash', set: { 'balancer.policy': 'ip-hash' } },
    { name: 'servers', set: { 'workload.trace.serviceTime': 'servers', 'servers.template.concurrency': 200 } },
  ],
});

function latencies(dir: string): number[] {
  const [header, ...lines] = readFileSync(join(dir, 'requests.csv'), 'utf8').trim().split('\n');
  const col = header.split(',').indexOf('latencyMs');
  return lines.map((l) => Number(l.split(',')[col])).sort((a, b) => a - b);
}

describe('live trace replay', () => {
  it('service times reach the replicas; counts match the simulator for round robin and ip-hash', async () => {
    const plan = parseExperiment(experiment(trace()), 'live-replay');
    const [liveDir, simDir] = [tempDir(), tempDir()];
    const live = await runLivePlan(plan, { runtime: new ProcessRuntime(), outDir: liveDir, writeRequests: true, log: quiet });
    const sim = await runPlan(plan, { outDir: simDir, writeRequests: true });
    const counts = (s: { servers: Record<string, { requests: number }> }) => Object.fromEntries(Object.entries(s.servers).map(([id, v]) => [id, v.requests]));
    for (const i of [0, 1]) {
      expect(live[i].summary.requests).toMatchObject({ total: 120, ok: 120 });
      expect(counts(live[i].summary)).toEqual(counts(sim[i].summary));
      // Bounds that load cannot fake: nothing faster than the replayed time, and the replicas'
      // own 2 s was not served (a busy machine adds ms to a request, not seconds to the median).
      const ms = latencies(join(liveDir, plan.runs[i].dir));
      expect(ms[0]).toBeGreaterThanOrEqual(SERVICE_MS);
      expect(ms[60]).toBeLessThan(OWN_MS);
    }
    // serviceTime "servers": no replay header, so every request takes the replicas' own time.
    expect(latencies(join(liveDir, 'servers'))[0]).toBeGreaterThanOrEqual(OWN_MS);
  });
});

describe('the replica\'s replay header', () => {
  const serviceDur = (timing: unknown) => Number(/service;dur=([0-9.]+)/.exec(String(timing))![1]);

  it('honours x-replay-service-ms only beside the control token', async () => {
    const app = buildReplica({ id: 's1', serviceTime: { dist: 'constant', value: 0 }, controlToken: 'secret' });
    try {
      const ok = await app.inject({ method: 'GET', url: '/home', headers: replayHeaders(25, 'secret') });
      expect(serviceDur(ok.headers['server-timing'])).toBe(25);
      const forged = await app.inject({ method: 'GET', url: '/home', headers: replayHeaders(25, 'guess') });
      expect(serviceDur(forged.headers['server-timing'])).toBe(0);
      const absurd = await app.inject({ method: 'POST', url: '/x', headers: replayHeaders(1e9, 'secret') });
      expect(serviceDur(absurd.headers['server-timing'])).toBe(0);
    } finally {
      await app.close();
    }
    const open = buildReplica({ id: 's2', serviceTime: { dist: 'constant', value: 0 } }); // no token: never honoured
    try {
      const r = await open.inject({ method: 'GET', url: '/home', headers: replayHeaders(25, 'anything') });
      expect(serviceDur(r.headers['server-timing'])).toBe(0);
    } finally {
      await open.close();
    }
  });
});
