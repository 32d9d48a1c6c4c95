// One random-stream derivation (core/rng.ts) in every engine: with the same seed the
// simulator, a live replica process and the proxy draw exactly the same numbers. Nothing
// here copies the derivation: each side is the engine's own code.
import { describe, expect, it } from 'vitest';
import { Balancer, BalancerSchema, type Distribution, STREAM, rngStream, sample } from '../../core/index.ts';
import { configs, simulate } from '../sim/helpers.ts';
import { proxy, replicas, send } from './helpers.ts';

const SEED = 11;
const SERVICE: Distribution = { dist: 'exponential', mean: 15 };
const N = 6;

describe('the same seed gives the same draws in every engine', () => {
  it('service times: the simulated s1, the replica process s1 and core rngStream agree', async () => {
    const fromCore = Array.from({ length: N }, ((rng) => () => sample(SERVICE, rng))(rngStream(SEED, STREAM.service('s1'))));

    // The simulator: one server, one user, no network, so each latency is one service draw.
    const [cfg] = configs({
      name: 'rng', seed: SEED,
      servers: { count: 1, template: { serviceTimeMs: SERVICE } },
      workload: { requests: N, arrival: { process: 'closed', concurrency: 1 } },
    });
    const fromSim = simulate(cfg).recorder.requests.map((r) => r.endMs - r.startMs);

    // The replica, a real process given the run seed and its id, reports each draw in Server-Timing.
    const [replica] = await replicas(1, () => ({ seed: SEED, serviceTime: SERVICE, concurrency: 1 }));
    const fromReplica: number[] = [];
    for (let i = 0; i < N; i++) {
      const timing = /service;dur=([\d.]+)$/.exec(String((await send(`${replica.url}/home`)).headers['server-timing']));
      fromReplica.push(Number(timing![1]));
    }

    // endMs − startMs carries float noise from the absolute times; the replica prints 3 decimals.
    const ms3 = (xs: number[]) => xs.map((x) => x.toFixed(3));
    expect(fromSim.map((x) => x.toFixed(9))).toEqual(fromCore.map((x) => x.toFixed(9)));
    expect(ms3(fromReplica)).toEqual(ms3(fromCore));
    expect(new Set(ms3(fromCore)).size).toBe(N); // really random draws, not a constant
  });

  it('balancer picks: the proxy with seed 42 picks what a core Balancer on rngStream(42, balancer) picks', async () => {
    const rs = await replicas(3);
    const p = await proxy({ seed: 42, journal: true, backends: rs.map((r) => ({ url: r.url })), routing: { balancer: { policy: 'random' } } });
    for (let i = 0; i < 30; i++) expect((await send(`${p.url}/r/${i}`)).status).toBe(200);
    const live = [...p.journal!.decisions().values()].map((d) => (d[0] as { trace: { chosen: string } }).trace.chosen);

    const lb = new Balancer({ balancer: BalancerSchema.parse({ policy: 'random' }), rng: rngStream(42, STREAM.balancer) });
    for (const id of p.balancer.ids()) lb.add(id, { nowMs: 0, initial: true });
    const core = live.map(() => lb.pick({ nowMs: 0 })!.id);
    expect(live).toEqual(core);
    expect(new Set(live).size).toBe(3);
  });
});
