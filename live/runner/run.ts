// Runs an experiment for real: replicas (processes or containers), the Fulcrum proxy in
// front, the experiment's arrival schedule from the same seed, and its faults at their
// times — real SIGKILLs, real restarts. Writes the same result files as the simulator,
// through the same writer.
import { request } from 'undici';
import { join } from 'node:path';
import {
  type ExperimentPlan, type Fault, type PlannedRun, type RunConfig, initialServerIds,
} from '../../experiments/schema.ts';
import type { RequestOutcome, ServerSnapshot } from '../../experiments/records.ts';
import { type RunResult, openRunWriter, writeIndexes } from '../../experiments/run-files.ts';
import type { RunSummary } from '../../experiments/summary.ts';
import { clientAddress, workloadSchedule } from '../../experiments/workload.ts';
import { isOkStatus } from '../../core/types.ts';
import { type Completed, type LoadReport, runClosedLoad, runOpenLoad } from './loadgen.ts';
import { MetricsRecorder, httpSource } from './metrics-recorder.ts';
import { type RunningProxy, startProxy } from '../proxy/start.ts';
import type { Replica, Runtime } from './runtime/types.ts';

export interface LiveOptions {
  runtime: Runtime;
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
    opts.log(`live run ${plan.name}${run.dir ? `/${run.dir}` : ''} on ${opts.runtime.name} replicas`);
    results.push(await runLiveOne(plan, run, opts));
  }
  await writeIndexes(plan, results, opts.outDir, 'live');
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
  const ids = allServerIds(cfg);
  const initial = new Set(initialServerIds(cfg));
  const replicas = new Map<string, Replica>();
  let proxy: RunningProxy | undefined;
  const timers: NodeJS.Timeout[] = [];
  let recorder: MetricsRecorder | undefined;
  try {
    // Replicas for servers added later start now too, outside the pool, so an `add` at
    // time T makes a server available at T, as in the simulator.
    const specOf = (id: string) => ({ ...cfg.servers.template, ...cfg.servers.overrides?.[id] });
    for (const id of ids) {
      const spec = specOf(id);
      const crash = cfg.faults?.find((f): f is Extract<Fault, { kind: 'crash' }> => f.kind === 'crash' && f.server === id);
      replicas.set(id, await opts.runtime.start({
        id, host: '127.0.0.1', // no port: the runtime picks one without a race
        serviceTimeMs: spec.serviceTimeMs, concurrency: spec.concurrency,
        seed: String(cfg.seed), controlToken: CONTROL_TOKEN, // the replica derives server/<id> as the simulator does
        restart: crash?.restartAfterMs !== undefined, restartDelayMs: crash?.restartAfterMs,
      }));
    }
    proxy = await startProxy({
      backends: [...initial].map((id) => ({ id, url: replicas.get(id)!.url, weight: specOf(id).weight })),
      routing: { balancer: cfg.balancer, health: cfg.health, retry: cfg.retry, timeouts: cfg.timeouts },
      seed: cfg.seed,
      drainTimeoutMs: cfg.timeouts.requestMs,
    });
    const running = proxy;
    const writer = await openRunWriter(plan, run, 'live', opts);
    if (opts.metricsIntervalMs) {
      recorder = new MetricsRecorder([() => running.metrics.registry.metrics(), ...[...replicas.values()].map((r) => httpSource(`${r.url}/metrics`))], opts.metricsIntervalMs);
    }

    const t0 = performance.now();
    const now = () => performance.now() - t0;
    const snapshot = (): ServerSnapshot[] =>
      running.balancer.status(running.driver.now()).map((s) => ({ id: s.id, inFlight: s.inFlight, healthy: s.routable }));
    running.driver.observeAttempts({
      started: (id) => writer.attemptStarted(id, now()),
      ended: (id, ok) => writer.attemptEnded(id, now(), ok),
    });
    let bucket = 0;
    const bucketTimer = setInterval(() => {
      while ((bucket + 1) * writer.bucketMs <= now()) writer.bucketEnd(++bucket * writer.bucketMs, snapshot());
    }, Math.max(5, writer.bucketMs / 4));
    timers.push(bucketTimer);
    for (const f of cfg.faults ?? []) timers.push(...scheduleFault(f, replicas, opts.log));
    for (const c of cfg.changes ?? []) timers.push(scheduleChange(c, running, replicas, opts.log));

    const onComplete = (r: Completed) => writer.requestDone({
      id: r.id, client: r.client, startMs: r.startMs, endMs: r.endMs, status: r.status,
      outcome: outcomeOf(r), servers: r.servers ? r.servers.split('|') : [],
    });
    const common = {
      target: running.url, method: cfg.workload.method, path: cfg.workload.path, addressOf: clientAddress, replayToken: CONTROL_TOKEN,
      clientTimeoutMs: cfg.timeouts.requestMs + 5_000, t0, onComplete,
    };
    const schedule = workloadSchedule(cfg.workload, cfg.seed);
    const load = schedule.kind === 'open'
      ? await runOpenLoad({ ...common, arrivals: schedule.arrivals })
      : await runClosedLoad({ ...common, loop: schedule.loop });
    for (const t of timers) clearTimeout(t);
    const summary: RunSummary = await writer.close({ atMs: now(), servers: snapshot() });
    await recorder?.finish(join(opts.outDir, run.dir, 'metrics.om'));
    const minShare = opts.minRateShare ?? 0.95;
    opts.log(`  sent ${load.sent} requests: requested ${load.requestedPerSec.toFixed(1)}/s, achieved ${load.achievedPerSec.toFixed(1)}/s, worst send lag ${load.maxLagMs.toFixed(1)} ms`);
    if (schedule.kind === 'open' && load.sent > 1 && load.achievedPerSec < minShare * load.requestedPerSec) {
      throw new Error(`the load generator fell behind: achieved ${load.achievedPerSec.toFixed(1)}/s of ${load.requestedPerSec.toFixed(1)}/s requested (below ${minShare * 100} %); results would hide queueing`);
    }
    return { run, summary, eventsHandled: 0, load };
  } finally {
    for (const t of timers) clearTimeout(t);
    recorder?.cancel();
    await proxy?.close(1_000);
    await opts.runtime.closeAll();
  }
}

/** What the client saw, in the simulator's outcome vocabulary. */
function outcomeOf(r: Completed): RequestOutcome {
  if (r.proxyError) return r.proxyError as RequestOutcome;
  if (r.status === 0) return 'upstream_reset'; // the proxy aborted the connection mid-response
  return isOkStatus(r.status) ? 'ok' : 'error';
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

function scheduleChange(c: RunConfig['changes'][number], proxy: RunningProxy, replicas: Map<string, Replica>, log: (line: string) => void): NodeJS.Timeout {
  return setTimeout(() => {
    const admin = (method: 'POST' | 'DELETE' | 'PUT', path: string, body?: object) => request(`${proxy.adminUrl}${path}`, {
      method, body: body ? JSON.stringify(body) : undefined,
      headers: { authorization: `Bearer ${proxy.adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    }).then(async (res) => {
      const text = await res.body.text();
      if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
    });
    let action: Promise<void> | undefined;
    switch (c.kind) {
      case 'add':
        log(`  add ${c.server}`);
        action = admin('POST', '/backends', { id: c.server, url: replicas.get(c.server)!.url, weight: c.weight });
        break;
      case 'remove':
        log(`  remove ${c.server} (drain)`);
        action = admin('DELETE', `/backends/${c.server}`);
        break;
      case 'weight':
        action = admin('PUT', `/backends/${c.server}/weight`, { weight: c.weight });
        break;
    }
    action.catch((err: Error) => log(`  change failed: ${err.message}`));
  }, c.atMs);
}

