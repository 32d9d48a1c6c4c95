// Runs an experiment for real: replicas (processes or containers), the proxy under test in
// a process of its own (proxies/index.ts), the experiment's arrival schedule from the same
// seed, and its faults at their times — real SIGKILLs, real restarts. During the run the
// load generator only sends and records what each client saw; afterwards the proxy's own
// log is joined in (join-log.ts) and the same result files as the simulator's are written,
// through the same writer.
import { request } from 'undici';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ExperimentPlan, type Fault, type PlannedRun, type RunConfig, initialServerIds,
} from '../../experiments/schema.ts';
import type { ProxyName } from '../../experiments/proxies.ts';
import { type RunResult, openRunWriter, writeIndexes } from '../../experiments/run-files.ts';
import type { RunSummary } from '../../experiments/summary.ts';
import { clientAddress, workloadSchedule } from '../../experiments/workload.ts';
import { reachOf } from '../../experiments/balancers.ts';
import { type Completed, type LoadReport, runClosedLoad, runOpenLoad } from './loadgen.ts';
import { MetricsRecorder, httpSource } from './metrics-recorder.ts';
import { proxyLauncher } from './proxies/index.ts';
import { type Fleet, launchFleet } from './proxies/fleet.ts';
import { type MembersRecord, type ProxyUnderTest, replicaSocketPath } from './proxies/types.ts';
import { joinProxyLog } from './join-log.ts';
import type { Replica, Runtime } from './runtime/types.ts';

export interface LiveOptions {
  runtime: Runtime;
  /** The proxy under test; Fulcrum's own by default. */
  proxy?: ProxyName;
  /** The mode folder: runs/<name>/live by default. */
  outDir: string;
  writeRequests: boolean;
  log: (line: string) => void;
  /** Fail the run when the generator achieved less than this share of the requested rate. */
  minRateShare?: number;
  /** Record the proxy's and replicas' metrics every this many ms into the run's metrics.om (metrics-recorder.ts). */
  metricsIntervalMs?: number;
}

export interface LiveRunResult extends RunResult {
  load: LoadReport;
}

export async function runLivePlan(plan: ExperimentPlan, opts: LiveOptions): Promise<LiveRunResult[]> {
  const results: LiveRunResult[] = [];
  for (const run of plan.runs) {
    opts.log(`live run ${plan.name}${run.dir ? `/${run.dir}` : ''} on ${opts.runtime.name} replicas, proxy ${opts.proxy ?? 'fulcrum'}`);
    results.push(await runLiveOne(plan, run, opts));
  }
  await writeIndexes(plan, results, opts.outDir, 'live', opts.proxy);
  return results;
}

const CONTROL_TOKEN = 'fulcrum-live-runner';

/** Every server the run will ever use: the initial ones and those `changes` add later. */
function allServerIds(cfg: RunConfig): string[] {
  const ids = initialServerIds(cfg);
  for (const c of cfg.changes) if (c.kind === 'add' && !ids.includes(c.server)) ids.push(c.server);
  return ids;
}

export async function runLiveOne(plan: Pick<ExperimentPlan, 'name'>, run: PlannedRun, opts: LiveOptions): Promise<LiveRunResult> {
  const cfg = run.config;
  const proxyName = opts.proxy ?? 'fulcrum';
  const found = proxyLauncher(proxyName);
  if ('problem' in found) throw new Error(found.problem);
  const ids = allServerIds(cfg);
  const initial = new Set(initialServerIds(cfg));
  const replicas = new Map<string, Replica>();
  let proxy: ProxyUnderTest | undefined;
  const timers: NodeJS.Timeout[] = [];
  let recorder: MetricsRecorder | undefined;
  const workDir = await mkdtemp(join(tmpdir(), `fulcrum-${proxyName}-`));
  try {
    // Replicas for servers added later start now too, outside the pool, so an `add` at
    // time T makes a server available at T, as in the simulator.
    const specOf = (id: string) => ({ ...cfg.servers.template, ...cfg.servers.overrides?.[id] });
    const socketOf = (id: string) => (found.launcher.replicaSockets?.(cfg) ? replicaSocketPath(workDir, id) : undefined);
    for (const id of ids) {
      const spec = specOf(id);
      const crash = cfg.faults?.find((f): f is Extract<Fault, { kind: 'crash' }> => f.kind === 'crash' && f.server === id);
      replicas.set(id, await opts.runtime.start({
        id, host: '127.0.0.1', // no port: the runtime picks one without a race
        socketPath: socketOf(id),
        serviceTimeMs: spec.serviceTimeMs, concurrency: spec.concurrency,
        seed: String(cfg.seed), controlToken: CONTROL_TOKEN, // the replica derives server/<id> as the simulator does
        restart: crash?.restartAfterMs !== undefined, restartDelayMs: crash?.restartAfterMs,
      }));
    }
    // balancers.count > 1: that many proxy processes, each its own balancer (fleet.ts).
    const fleet: Fleet = await launchFleet(found.launcher, {
      backends: [...initial].map((id) => ({ id, url: replicas.get(id)!.url, weight: specOf(id).weight, socketPath: socketOf(id) })),
      config: cfg, workDir, log: opts.log,
    }, cfg.balancers.count);
    proxy = fleet.proxy;
    const running = proxy;
    const writer = await openRunWriter(plan, run, 'live', { ...opts, proxy: proxyName });
    if (opts.metricsIntervalMs) {
      const own = running.metrics ? [() => running.metrics!()] : [];
      recorder = new MetricsRecorder([...own, ...[...replicas.values()].map((r) => httpSource(`${r.url}/metrics`))], opts.metricsIntervalMs);
    }

    const t0 = performance.now();
    const now = () => performance.now() - t0;
    for (const f of cfg.faults ?? []) timers.push(...scheduleFault(f, replicas, opts.log));
    for (const c of cfg.changes ?? []) timers.push(scheduleChange(c, running, replicas, opts.log));

    const completions: Completed[] = [];
    const common = {
      target: running.url,
      spread: fleet.members.length > 1 ? { targets: fleet.members.map((p) => p.url), of: reachOf(cfg.balancers, cfg.seed) } : undefined,
      method: cfg.workload.method, path: cfg.workload.path, addressOf: clientAddress, replayToken: CONTROL_TOKEN,
      clientTimeoutMs: cfg.timeouts.requestMs + 5_000, t0, onComplete: (r: Completed) => { completions.push(r); },
    };
    const schedule = workloadSchedule(cfg.workload, cfg.seed);
    const load = schedule.kind === 'open'
      ? await runOpenLoad({ ...common, arrivals: schedule.arrivals })
      : await runClosedLoad({ ...common, loop: schedule.loop });
    const endMs = now();
    for (const t of timers) clearTimeout(t);
    await recorder?.finish(join(opts.outDir, run.dir, 'metrics.om'));
    const access = await running.stop();
    const t0EpochMs = performance.timeOrigin + t0;
    const members = running.members?.().map((m) => ({ ...m, atMs: m.atMs - t0EpochMs })) ?? membershipOf(cfg);
    const joined = await joinProxyLog(writer, { completions, access, members, t0EpochMs, endMs });
    if (joined.unlogged > 0) opts.log(`  ${joined.unlogged} requests are missing from the proxy's log: their rows name no server`);
    const summary: RunSummary = await writer.close({ atMs: joined.endMs, servers: joined.final });
    const minShare = opts.minRateShare ?? 0.95;
    opts.log(`  sent ${load.sent} requests: requested ${load.requestedPerSec.toFixed(1)}/s, achieved ${load.achievedPerSec.toFixed(1)}/s, worst send lag ${load.maxLagMs.toFixed(1)} ms`);
    if (schedule.kind === 'open' && load.sent > 1 && load.achievedPerSec < minShare * load.requestedPerSec) {
      throw new Error(`the load generator fell behind: achieved ${load.achievedPerSec.toFixed(1)}/s of ${load.requestedPerSec.toFixed(1)}/s requested (below ${minShare * 100} %); results would hide queueing`);
    }
    return { run, summary, eventsHandled: 0, load };
  } finally {
    for (const t of timers) clearTimeout(t);
    recorder?.cancel();
    await proxy?.stop().catch((err: Error) => opts.log(`  stopping the proxy failed: ${err.message}`));
    await opts.runtime.closeAll();
    await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * A proxy whose log does not report routability: each server counts as healthy while it
 * is a member, by the experiment's own `changes` (a removed server leaves at once).
 */
function membershipOf(cfg: RunConfig): MembersRecord[] {
  let servers = initialServerIds(cfg).map((id) => ({ id, routable: true }));
  const timeline: MembersRecord[] = [{ atMs: 0, servers }];
  for (const c of [...cfg.changes].sort((a, b) => a.atMs - b.atMs)) {
    if (c.kind === 'add') servers = [...servers, { id: c.server, routable: true }];
    else if (c.kind === 'remove') servers = servers.filter((s) => s.id !== c.server);
    else continue;
    timeline.push({ atMs: c.atMs, servers });
  }
  return timeline;
}

function scheduleFault(f: Fault, replicas: Map<string, Replica>, log: (line: string) => void): NodeJS.Timeout[] {
  const replica = replicas.get(f.server);
  if (!replica) return [];
  const at = (ms: number, what: () => unknown) => setTimeout(() => {
    Promise.resolve(what()).catch((err: Error) => log(`  fault on ${f.server} failed: ${err.message}`));
  }, ms);
  switch (f.kind) {
    case 'crash':
      return [at(f.atMs, () => { log(`  ${f.server}: SIGKILL`); return replica.crash(); })];
    case 'hang': {
      const timers = [at(f.atMs, () => { log(`  ${f.server}: SIGSTOP`); replica.pause(); })];
      if (f.durationMs !== undefined) timers.push(at(f.atMs + f.durationMs, () => { log(`  ${f.server}: SIGCONT`); replica.resume(); }));
      return timers;
    }
    default: {
      const mode = f.kind === 'slow' ? { mode: 'slow', factor: f.factor }
        : f.kind === 'errors' ? { mode: 'error', probability: f.probability, status: f.status }
          : { mode: 'reset', probability: f.probability };
      const timers = [at(f.atMs, () => control(replica, mode))];
      if (f.durationMs !== undefined) timers.push(at(f.atMs + f.durationMs, () => control(replica, { mode: 'normal' })));
      return timers;
    }
  }
}

async function control(replica: Replica, fault: object): Promise<void> {
  const res = await request(`${replica.url}/__control`, {
    method: 'PUT', body: JSON.stringify(fault),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${CONTROL_TOKEN}` },
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`control ${JSON.stringify(fault)}: ${res.statusCode} ${text}`);
}

function scheduleChange(c: RunConfig['changes'][number], proxy: ProxyUnderTest, replicas: Map<string, Replica>, log: (line: string) => void): NodeJS.Timeout {
  return setTimeout(() => {
    if (c.kind === 'add') log(`  add ${c.server}`);
    if (c.kind === 'remove') log(`  remove ${c.server} (drain)`);
    proxy.change(c, replicas.get(c.server)?.url).catch((err: Error) => log(`  change failed: ${err.message}`));
  }, Math.max(0, c.atMs - (proxy.changeLeadMs ?? 0)));
}
