// `balancers.count` live: N processes of the proxy under test, each on its own port with
// its own balancer state and health checks, and its streams under instanceSeed(seed, i) as
// the simulator's instance i. Changes go to every one; their access logs are joined into
// one, so an N-proxy run writes the same result files as a one-proxy run.
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { instanceSeed } from '../../../core/rng.ts';
import type { Change } from '../../../experiments/schema.ts';
import type { AccessRecord, MembersRecord, ProxyLaunch, ProxyLauncher, ProxyUnderTest } from './types.ts';

export interface Fleet {
  /** The instances, in index order: the load generator's targets. */
  readonly members: readonly ProxyUnderTest[];
  /** All of them as one proxy under test (its `url` is the first's). */
  readonly proxy: ProxyUnderTest;
}

export async function launchFleet(launcher: ProxyLauncher, launch: ProxyLaunch, count: number): Promise<Fleet> {
  const started: ProxyUnderTest[] = [];
  try {
    for (let index = 0; index < count; index++) {
      // Each instance its own folder: launchers write their config and logs under fixed names.
      const workDir = count === 1 ? launch.workDir : await mkdtemp(join(launch.workDir, `balancer-${index}-`));
      started.push(await launcher({ ...launch, workDir, seed: String(instanceSeed(launch.config.seed, index)) }));
    }
  } catch (err) {
    await Promise.allSettled(started.map((p) => p.stop()));
    throw err;
  }
  if (count === 1) return { members: started, proxy: started[0] };
  const [first] = started;
  const proxy: ProxyUnderTest = {
    name: first.name,
    url: first.url,
    pid: first.pid,
    changeLeadMs: first.changeLeadMs,
    async change(c: Change, url?: string) { await Promise.all(started.map((p) => p.change(c, url))); },
    async stop(): Promise<AccessRecord[]> {
      const logs = await Promise.all(started.map((p) => p.stop()));
      return logs.flat();
    },
    members: first.members && (() => mergeMembers(started.map((p) => p.members?.() ?? []))),
    // The first instance's only: N expositions of the same series would collide in metrics.om.
    metrics: first.metrics,
  };
  return { members: started, proxy };
}

/**
 * One timeline from N proxies' own: after each record, a server is routable only while
 * every instance that has logged would route to it — the simulator's `healthy` for N instances.
 */
export function mergeMembers(timelines: ReadonlyArray<readonly MembersRecord[]>): MembersRecord[] {
  const events = timelines.flatMap((t, instance) => t.map((r) => ({ r, instance }))).sort((a, b) => a.r.atMs - b.r.atMs || a.instance - b.instance);
  const latest = new Map<number, MembersRecord>();
  return events.map(({ r, instance }) => {
    latest.set(instance, r);
    const views = [...latest.values()];
    return {
      atMs: r.atMs,
      servers: r.servers.map((s) => ({ id: s.id, routable: views.every((v) => v.servers.some((o) => o.id === s.id && o.routable)) })),
    };
  });
}
