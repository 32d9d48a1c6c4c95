// npm run calibrate -- --proxy fulcrum|haproxy|nginx|caddy [--out FILE] [--experiment FILE] [--requests N] [--quiet]
// Runs the calibration experiment live against the proxy, in a process of its own, and fits
// the simulator's network model to it (fit.ts): the hop from round trips straight to a
// replica, the proxy's CPU per request from its threads' CPU time at two load levels (the
// median of three rounds), the overhead from what is left. Writes the calibration file
// experiments reference with `"network": {"calibration": true}` and prints how close the
// simulator then comes.
// Exit codes: 0 written, 2 bad arguments or experiment, 1 anything else.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, type } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { type ProxyName, parseProxyFlag } from '../../experiments/proxies.ts';
import { ExperimentError, type RunConfig, initialServerIds, loadExperiment } from '../../experiments/schema.ts';
import { type MeasuredCalibration, calibrationPath } from '../../experiments/calibration-file.ts';
import type { NetworkModel } from '../../experiments/network.ts';
import type { Recorder } from '../../experiments/records.ts';
import { clientAddress, workloadSchedule } from '../../experiments/workload.ts';
import { Simulation } from '../../sim/model/simulation.ts';
import { type Completed, runClosedLoad, runOpenLoad } from '../runner/loadgen.ts';
import { killAllGroups, killAllGroupsNow } from '../runner/proxies/process-group.ts';
import { ProcessRuntime } from '../runner/runtime/process.ts';
import { type CpuLevel, cpuPerRequestMs, errorPct, fitNetwork, latencyStats } from './fit.ts';
import { threadCpuMs } from './cpu-time.ts';
import { type CalibrationTarget, startTarget } from './targets.ts';

const USAGE = `usage: npm run calibrate -- --proxy fulcrum|haproxy|nginx|caddy [options]

  --proxy NAME       the proxy to calibrate (default fulcrum), started in its own process
  --out FILE         write the calibration here instead of experiments/calibration/<proxy>.json
  --experiment FILE  the calibration experiment (default experiments/calibration.json):
                     servers that answer at once, light open-loop load, round robin
  --requests N       requests per load level instead of the experiment's (a quick check)
  --quiet            print nothing but errors
  --help             this text`;

/** The CPU level runs this many times the experiment's rate, for as long. */
const HIGH_LOAD_FACTOR = 4;
/**
 * Rounds of the two CPU levels. One round's slope moved by a third between runs on an idle
 * 2-core machine (Fulcrum: 128, 167 and 170 µs); the median of three holds better.
 */
const CPU_ROUNDS = 3;
/** The closed-loop check sends this many times the experiment's requests. */
const SATURATION_SHARE = 2;
/** Round trips straight to one replica, for the hop. */
const DIRECT_REQUESTS = 1_000;

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        proxy: { type: 'string' },
        out: { type: 'string' },
        experiment: { type: 'string', default: 'experiments/calibration.json' },
        requests: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  const { proxy, error } = parseProxyFlag('--proxy', values.proxy);
  if (error !== undefined) { process.stderr.write(`${error}\n`); return 2; }
  const requests = values.requests === undefined ? undefined : Number(values.requests);
  if (requests !== undefined && !(Number.isInteger(requests) && requests >= 50 && requests <= 1_000_000)) {
    process.stderr.write(`--requests: got ${JSON.stringify(values.requests)}; allowed: an integer from 50 to 1000000\n`);
    return 2;
  }
  let cfg: RunConfig;
  try {
    const plan = await loadExperiment(values.experiment, { proxy });
    if (plan.runs.length !== 1) throw new ExperimentError(values.experiment, [`a calibration experiment is one run; this one has ${plan.runs.length} (no sweep or variants)`]);
    cfg = plan.runs[0].config;
  } catch (e) {
    if (e instanceof ExperimentError) { process.stderr.write(`${e.message}\n`); return 2; }
    throw e;
  }
  const w = cfg.workload;
  if (w.arrival === undefined || w.arrival.process === 'closed' || w.requests === undefined) {
    process.stderr.write(`${values.experiment}: workload: calibration needs an open-loop arrival and a request count\n`);
    return 2;
  }
  if (requests !== undefined) cfg = { ...cfg, workload: { ...w, requests } };

  const say = values.quiet ? () => {} : (line: string) => process.stdout.write(`${line}\n`);
  const [loadNow] = loadavg();
  if (loadNow > cpus().length) {
    process.stderr.write(`calibrate: load average ${loadNow.toFixed(1)} on ${cpus().length} CPUs: the fit will describe a busy machine (it is written to the file)\n`);
  }
  const file = await calibrate(cfg, proxy, values.experiment, say);
  const out = values.out ?? calibrationPath(proxy);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(file, null, 2)}\n`);
  say(report(file));
  say(`written ${relative(process.cwd(), out) || out}`);
  if (values.out === undefined) say(`experiments with "network": {"calibration": true} now simulate ${proxy} with it; npm run sim:check lists the committed results that change`);
  return 0;
}

interface Measured {
  proxiedMs: number[];
  saturation: { latencies: number[]; durationMs: number; cpuMs: number };
  directRttMs: number;
  levels: CpuLevel[];
  target: Pick<CalibrationTarget, 'workers' | 'version'>;
}

export async function calibrate(cfg: RunConfig, proxy: ProxyName, experiment: string, say: (line: string) => void): Promise<MeasuredCalibration> {
  say(`calibrating ${proxy} with ${experiment}: ${cfg.workload.requests} requests per level`);
  const m = await measure(cfg, proxy, say);
  const cpuMs = cpuPerRequestMs(m.levels);
  const network = fitNetwork({ proxiedMs: m.proxiedMs, directRttMs: m.directRttMs, cpuPerRequestMs: cpuMs, workers: m.target.workers });
  const live = latencyStats(m.proxiedMs);
  const sim = latencyStats(simulate(cfg, network).latencies);
  const closed = { ...cfg, workload: saturating(cfg) };
  const { proxyCpu: _, ...withoutCpu } = network;
  const machine = cpus();
  return {
    proxy,
    description: `Fitted by npm run calibrate -- --proxy ${proxy}: hop = half the median round trip straight to a replica, capped so two hops and the CPU fit under the fastest 5 % of proxied requests; proxy CPU = the CPU time of its ${proxy === 'fulcrum' ? 'event-loop thread' : proxy === 'nginx' ? 'worker processes' : 'threads'} per request (median over ${CPU_ROUNDS} rounds of the slope between ${m.levels[0].ratePerSec}/s and ${m.levels[1].ratePerSec}/s), split half in, half out; overhead = lognormal with the median and mean/median of the latency left over.`,
    measuredAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    machine: { cpus: machine.length, cpuModel: machine[0]?.model.trim() ?? 'unknown', os: `${type()} ${release()}`, node: process.version, proxyVersion: m.target.version },
    experiment,
    network,
    measured: { requests: m.proxiedMs.length, loadAverage: loadavg().map((x) => Number(x.toFixed(2))), latencyMs: live, directRttMs: m.directRttMs, cpu: m.levels, cpuPerRequestMs: Number(cpuMs.toFixed(5)) },
    fit: {
      simLatencyMs: sim,
      errorPct: errorPct(sim, live),
      saturation: {
        users: closed.workload.arrival?.process === 'closed' ? closed.workload.arrival.concurrency : 0,
        requests: closed.workload.requests!,
        live: saturationOf(m.saturation),
        liveCpuPerRequestMs: Number((m.saturation.cpuMs / m.saturation.latencies.length).toFixed(5)),
        sim: saturationOf(simulate(closed, network)),
        simWithoutCpu: saturationOf(simulate(closed, withoutCpu)),
      },
    },
  };
}

async function measure(cfg: RunConfig, proxy: ProxyName, say: (line: string) => void): Promise<Measured> {
  const log = (line: string) => say(`  ${line}`);
  const runtime = new ProcessRuntime(() => {});
  const workDir = await mkdtemp(join(tmpdir(), `fulcrum-calibrate-${proxy}-`));
  let target: CalibrationTarget | undefined;
  try {
    const backends: Array<{ id: string; url: string }> = [];
    for (const id of initialServerIds(cfg)) {
      const spec = { ...cfg.servers.template, ...cfg.servers.overrides[id] };
      const replica = await runtime.start({
        id, host: '127.0.0.1', serviceTimeMs: spec.serviceTimeMs, concurrency: spec.concurrency,
        seed: String(cfg.seed), controlToken: 'fulcrum-calibrate', restart: false,
      });
      backends.push({ id, url: replica.url });
    }
    const light = cfg.workload;
    const rate = light.arrival === undefined || light.arrival.process === 'closed' ? 0 : light.arrival.ratePerSec;
    const withLoad = (factor: number, requests: number) => ({ ...light, requests, arrival: { process: 'poisson' as const, ratePerSec: rate * factor } });

    const directLoad = withLoad(1, Math.min(DIRECT_REQUESTS, light.requests!));
    await drive(backends[0].url, directLoad, cfg.seed + 1); // warm-up: the replica's JIT, the client's pool
    const direct = await drive(backends[0].url, directLoad, cfg.seed);
    const directRttMs = latencyStats(direct.latencies).p50;
    log(`straight to ${backends[0].id}: median round trip ${directRttMs} ms over ${direct.latencies.length} requests`);

    target = await startTarget({ proxy, backends, workDir, config: cfg, log });
    const running = target;
    log(`${proxy} pid ${running.pid} on ${running.url} (${running.version}); ${running.workers} worker${running.workers === 1 ? '' : 's'}`);
    // Warm up first (JIT, connection pools) so neither level pays for it.
    await drive(running.url, withLoad(HIGH_LOAD_FACTOR, light.requests!), cfg.seed + 1);
    const levels: CpuLevel[] = [];
    const proxiedMs: number[] = [];
    for (let round = 0; round < CPU_ROUNDS; round++) {
      for (const factor of [1, HIGH_LOAD_FACTOR]) {
        const workload = withLoad(factor, light.requests! * factor);
        const before = threadCpuMs(running.pid, running.threads);
        const run = await drive(running.url, workload, cfg.seed);
        const cpuMs = threadCpuMs(running.pid, running.threads) - before;
        const level = { ratePerSec: workload.arrival.ratePerSec, requests: run.latencies.length, durationMs: Math.round(run.durationMs), cpuMs: Math.round(cpuMs * 10) / 10 };
        levels.push(level);
        log(`round ${round + 1}, ${level.ratePerSec}/s: ${level.requests} requests (${run.failed} failed) in ${level.durationMs} ms, proxy CPU ${level.cpuMs} ms`);
        if (run.failed > 0) throw new Error(`${run.failed} requests failed at ${level.ratePerSec}/s (${run.why}): calibration needs a healthy path; is the machine busy?`);
        if (factor === 1) proxiedMs.push(...run.latencies);
      }
    }
    const cpuBefore = threadCpuMs(running.pid, running.threads);
    const saturation = await drive(running.url, saturating(cfg), cfg.seed);
    const saturationCpuMs = threadCpuMs(running.pid, running.threads) - cpuBefore;
    log(`closed loop, ${cfg.workload.clients.count} users: ${saturation.latencies.length} requests in ${Math.round(saturation.durationMs)} ms, proxy CPU ${saturationCpuMs.toFixed(1)} ms`);
    if (saturation.failed > 0) throw new Error(`${saturation.failed} requests failed in the closed loop (${saturation.why})`);
    return { proxiedMs, saturation: { ...saturation, cpuMs: saturationCpuMs }, directRttMs, levels, target: running };
  } finally {
    await target?.stop();
    await runtime.closeAll();
    await rm(workDir, { recursive: true, force: true });
  }
}

/** Sends the workload's open-loop schedule to `url`; every latency, and how many failed. */
async function drive(url: string, workload: RunConfig['workload'], seed: number): Promise<{ latencies: number[]; failed: number; why: string; durationMs: number }> {
  const schedule = workloadSchedule(workload, seed);
  const latencies: number[] = [];
  let failed = 0;
  const reasons = new Map<string, number>();
  const t0 = performance.now();
  const common = {
    target: url, method: workload.method, path: workload.path, addressOf: clientAddress, clientTimeoutMs: 10_000, t0,
    onComplete: (r: Completed) => {
      if (r.status >= 200 && r.status < 300) { latencies.push(r.endMs - r.startMs); return; }
      failed++;
      const why = r.error ?? `status ${r.status}`;
      reasons.set(why, (reasons.get(why) ?? 0) + 1);
    },
  };
  if (schedule.kind === 'open') await runOpenLoad({ ...common, arrivals: schedule.arrivals });
  else await runClosedLoad({ ...common, loop: schedule.loop });
  const why = [...reasons].map(([reason, n]) => `${n} × ${reason}`).join(', ');
  return { latencies, failed, why, durationMs: performance.now() - t0 };
}

/** The simulator's latencies for the experiment with the fitted network, and when the last answer came. */
function simulate(cfg: RunConfig, network: NetworkModel): { latencies: number[]; durationMs: number } {
  const latencies: number[] = [];
  const recorder: Recorder = {
    bucketMs: 1e9, attemptStarted() {}, attemptEnded() {}, bucketEnd() {},
    requestDone(r) { latencies.push(r.endMs - r.startMs); },
  };
  const sim = new Simulation({ ...cfg, network }, recorder);
  while (!sim.step(1_000_000)) { /* to the end */ }
  return { latencies, durationMs: sim.lastResponseMs };
}

function saturationOf(run: { latencies: number[]; durationMs: number }): { throughputPerSec: number; meanMs: number } {
  return {
    throughputPerSec: Math.round((run.latencies.length * 1000) / run.durationMs),
    meanMs: latencyStats(run.latencies).mean,
  };
}

/** Closed loop, no think time: each user sends again as soon as it has its answer. */
function saturating(cfg: RunConfig): RunConfig['workload'] {
  const w = cfg.workload;
  return { ...w, requests: w.requests! * SATURATION_SHARE, arrival: { process: 'closed', concurrency: w.clients.count, thinkTimeMs: { dist: 'constant', value: 0 } } };
}

function report(f: MeasuredCalibration): string {
  const n = f.network;
  const cpu = n.proxyCpu;
  const lines = [
    `${f.proxy}: hop ${JSON.stringify(n.proxyToServerMs)}, overhead ${JSON.stringify(n.proxyOverheadMs ?? 'none')}`,
    `  CPU ${f.measured.cpuPerRequestMs} ms per request${cpu ? ` (${JSON.stringify(cpu.requestMs)} in, ${JSON.stringify(cpu.responseMs)} out, ${cpu.workers} worker${cpu.workers === 1 ? '' : 's'})` : ''}`,
    '',
    '  latency     live ms   sim ms   error',
  ];
  for (const k of ['mean', 'p50', 'p99'] as const) {
    lines.push(`  ${k.padEnd(8)} ${f.measured.latencyMs[k].toFixed(3).padStart(9)} ${f.fit.simLatencyMs[k].toFixed(3).padStart(8)} ${`${f.fit.errorPct[k] > 0 ? '+' : ''}${f.fit.errorPct[k]} %`.padStart(8)}`);
  }
  const sat = f.fit.saturation;
  const row = (name: string, r: typeof sat.live) => `  ${name.padEnd(22)} ${String(r.throughputPerSec).padStart(8)} ${r.meanMs.toFixed(3).padStart(9)}`;
  lines.push('', `  closed loop, ${sat.users} users     req/s   mean ms`, row('live', sat.live), row('sim', sat.sim), row('sim without CPU', sat.simWithoutCpu));
  lines.push(`  (live proxy CPU in the closed loop: ${sat.liveCpuPerRequestMs} ms per request)`);
  return lines.join('\n');
}

// The proxy runs in a process group of its own, which a terminal's Ctrl-C does not reach: stop it here.
process.once('exit', killAllGroupsNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void killAllGroups().finally(() => process.exit(130)); });

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => { process.stderr.write(`calibrate: ${(e as Error).stack ?? String(e)}\n`); process.exitCode = 1; },
);
