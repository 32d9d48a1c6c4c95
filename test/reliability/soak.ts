// `npm run soak -- [--minutes 10] [--seed 1]`: the proxy as a child process in front of four
// replicas (each behind a TCP fault proxy), mixed load, and random faults from a seeded
// schedule, one at a time. Every few seconds the proxy's RSS and open fds are sampled from
// /proc. At the end the history checker reads the whole run (the client history is
// streamed to disk on the way). Exit 1 on any violation or if RSS/fds grew past the stated
// thresholds after warm-up; 2 on bad flags.
import { createReadStream, createWriteStream, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import seedrandom from 'seedrandom';
import { flagProblem } from '../../core/did-you-mean.ts';
import { checkHistory, violationCounts } from './checker.ts';
import { type ClientRecord, nowMs, startLoad } from './client.ts';
import { type Cluster, ROUTING, startCluster } from './cluster.ts';
import { BUILD_DIR } from './paths.ts';

/** RSS may grow this much from the end of warm-up to the end of the run. */
const RSS_GROWTH_LIMIT_MB = 64;
/** Open fds, idle after the load, may exceed the idle count before it by this many. */
const FD_GROWTH_LIMIT = 16;
const SAMPLE_EVERY_MS = 5_000;

const USAGE = `usage: npm run soak -- [--minutes N] [--seed N]

  --minutes N  how long the mixed load and the faults run: 1..120 (default 10)
  --seed N     seed of the fault schedule and the load (integer, default 1); printed on failure
  --help       this text

Exit codes: 0 no violation and no growth, 1 a violation or RSS/fd growth past the limits, 2 bad flags.`;

const SOAK_OPTIONS = {
  minutes: { type: 'string', default: '10' }, seed: { type: 'string', default: '1' }, help: { type: 'boolean', default: false },
} as const;

function parseFlags(): { minutes: number; seed: number } {
  let values;
  try {
    ({ values } = parseArgs({ options: SOAK_OPTIONS, strict: true }));
  } catch (err) {
    process.stderr.write(`soak: ${flagProblem((err as Error).message, Object.keys(SOAK_OPTIONS))} (npm run soak -- --help)\n`);
    process.exit(2);
  }
  if (values.help) { process.stdout.write(`${USAGE}\n`); process.exit(0); }
  const minutes = Number(values.minutes);
  const seed = Number(values.seed);
  const problems: string[] = [];
  if (!(minutes >= 1 && minutes <= 120)) problems.push(`--minutes: got "${values.minutes}"; allowed: a number 1..120`);
  if (!Number.isInteger(seed)) problems.push(`--seed: got "${values.seed}"; allowed: an integer`);
  if (problems.length) { process.stderr.write(`soak: ${problems.join('\n  ')}\n${USAGE}\n`); process.exit(2); }
  return { minutes, seed };
}

interface Sample { atSec: number; rssMb: number; fds: number }

function sampleProxy(pid: number, startedMs: number): Sample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
  return { atSec: Math.round((nowMs() - startedMs) / 1000), rssMb: Math.round(rssKb / 102.4) / 10, fds: readdirSync(`/proc/${pid}/fd`).length };
}

type Fault = { name: string; apply(c: Cluster, i: number, rng: () => number): Promise<void> };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const between = (rng: () => number, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo));

/** Each fault hits one replica for a while and undoes itself. */
const FAULTS: Fault[] = [
  { name: 'kill+restart', async apply(c, i, rng) { c.replicas[i].kill('SIGKILL'); await sleep(between(rng, 500, 3_000)); await c.restartReplica(i); } },
  { name: 'stop/cont', async apply(c, i, rng) { c.replicas[i].kill('SIGSTOP'); await sleep(between(rng, 500, 2_500)); c.replicas[i].kill('SIGCONT'); } },
  { name: 'slow', async apply(c, i, rng) { await hold(c, i, { mode: 'slow', factor: between(rng, 20, 400) }, between(rng, 1_000, 5_000)); } },
  { name: '503s', async apply(c, i, rng) { await hold(c, i, { mode: 'error', status: 503, probability: 0.5 }, between(rng, 1_000, 5_000)); } },
  { name: 'reset-before-headers', async apply(c, i, rng) { await hold(c, i, { mode: 'reset', probability: 0.3 }, between(rng, 1_000, 4_000)); } },
  { name: 'reset-mid-body', async apply(c, i, rng) { await hold(c, i, { mode: 'reset', probability: 0.2, when: 'mid-body' }, between(rng, 1_000, 4_000)); } },
  { name: 'link-data-limit', async apply(c, i, rng) { await toxic(c, i, { limitDataBytes: between(rng, 2_000, 80_000) }, between(rng, 1_000, 4_000)); } },
  { name: 'link-latency', async apply(c, i, rng) { await toxic(c, i, { latencyMs: between(rng, 50, 600), bandwidthBytesPerSec: between(rng, 50_000, 1_000_000) }, between(rng, 1_000, 5_000)); } },
  {
    name: 'remove+re-add', async apply(c, i, rng) {
      const id = `s${i + 1}`;
      const removed = await c.admin('DELETE', `/backends/${id}`);
      if (removed.status !== 202 && removed.status !== 200) throw new Error(`DELETE ${id}: ${removed.status} ${JSON.stringify(removed.json)}`);
      await sleep(between(rng, 1_000, 4_000));
      // Re-adding fails with 409 while it still drains; retry until it is gone (bounded).
      for (let tries = 0; ; tries++) {
        const added = await c.admin('POST', '/backends', { id, url: c.faultProxies[i].url });
        if (added.status === 201) return;
        if (tries > 100) throw new Error(`re-add ${id}: ${added.status} ${JSON.stringify(added.json)}`);
        await sleep(100);
      }
    },
  },
];

async function hold(c: Cluster, i: number, fault: Parameters<Cluster['replicas'][0]['setFault']>[0], ms: number) {
  await c.replicas[i].setFault(fault);
  await sleep(ms);
  await c.replicas[i].setFault({ mode: 'normal' });
}

async function toxic(c: Cluster, i: number, toxics: Cluster['faultProxies'][0]['toxics'], ms: number) {
  c.faultProxies[i].toxics = toxics;
  await sleep(ms);
  c.faultProxies[i].toxics = {};
}

async function main(): Promise<void> {
  const { minutes, seed } = parseFlags();
  const runMs = minutes * 60_000;
  const warmupMs = Math.min(60_000, runMs / 5);
  const rng = seedrandom(`soak/${seed}`);
  const cluster = await startCluster({ name: 'soak', replicas: 4, childProxy: true, faultProxies: true, seed });
  const stopAll = async () => { await cluster.stop(); };
  process.once('SIGINT', () => { stopAll().finally(() => process.exit(130)); });
  try {
    const pid = cluster.proxyPid()!;
    const startedMs = nowMs();
    const samples: Sample[] = [sampleProxy(pid, startedMs)];
    const idleBefore = samples[0];
    log(`soak: ${minutes} min, seed ${seed}, proxy pid ${pid}, ${cluster.url}; RSS ${idleBefore.rssMb} MB, ${idleBefore.fds} fds idle`);

    const historyFile = join(BUILD_DIR, 'soak-client.jsonl');
    const history = createWriteStream(historyFile);
    let running = true;
    const load = startLoad({
      url: cluster.url, total: Number.MAX_SAFE_INTEGER, concurrency: 8, thinkMs: 20, runDeadlineMs: runMs,
      requestTimeoutMs: ROUTING.timeouts.requestMs + 10_000, seed, ridPrefix: `soak${seed}`, keep: false,
      onRecord: (r) => history.write(JSON.stringify(r) + '\n'), stop: () => !running,
    });
    let samplerError: unknown;
    const sampler = setInterval(() => {
      let s: Sample;
      try { s = sampleProxy(pid, startedMs); } catch (err) { samplerError = err; running = false; return; } // the proxy died

      samples.push(s);
      if (s.atSec % 60 < SAMPLE_EVERY_MS / 1000) log(`  ${s.atSec} s: ${load.done()} requests, RSS ${s.rssMb} MB, ${s.fds} fds`);
    }, SAMPLE_EVERY_MS);

    const faultsApplied: Record<string, number> = {};
    let nemesisError: unknown;
    const nemesis = (async () => {
      await sleep(5_000);
      while (running && nowMs() - startedMs < runMs - 15_000) {
        const fault = FAULTS[Math.floor(rng() * FAULTS.length)];
        const target = Math.floor(rng() * cluster.replicas.length);
        faultsApplied[fault.name] = (faultsApplied[fault.name] ?? 0) + 1;
        await fault.apply(cluster, target, rng);
        await sleep(between(rng, 2_000, 8_000));
      }
    })().catch((err) => { nemesisError = err; running = false; }); // ends the load early; reported below

    await load.finished;
    running = false;
    await nemesis;
    clearInterval(sampler);
    if (nemesisError || samplerError) throw nemesisError ?? samplerError;
    await new Promise<void>((r) => history.end(() => r()));

    // Idle: upstream keep-alive sockets (4 s) and client sockets close; then the last sample.
    await sleep(6_000);
    const idleAfter = sampleProxy(pid, startedMs);
    const metricsText = await cluster.metricsText();

    const client: ClientRecord[] = [];
    for await (const line of createInterface({ input: createReadStream(historyFile) })) if (line) client.push(JSON.parse(line));
    const result = checkHistory({
      client, arrivals: cluster.arrivals(), responses: cluster.responses(), metricsText,
      retry: { maxAttempts: ROUTING.retry.maxAttempts, budgetRatio: ROUTING.retry.budget.ratio, minConcurrent: ROUTING.retry.budget.minConcurrent, idempotentMethods: ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'] },
      deadlineMs: ROUTING.timeouts.requestMs, slackMs: 1_500,
      oracle: { healthy: [[0, Infinity]] }, // one fault at a time on one of four replicas
    });

    const afterWarmup = samples.filter((s) => s.atSec * 1000 >= warmupMs);
    const warm = afterWarmup[0] ?? samples.at(-1)!;
    const last = samples.at(-1)!;
    const rssGrowthMb = Math.round((last.rssMb - warm.rssMb) * 10) / 10;
    const fdGrowth = idleAfter.fds - idleBefore.fds;
    const outcomes: Record<string, number> = {};
    for (const r of client) {
      const key = r.outcome.kind === 'response' ? String(r.outcome.status) : r.outcome.kind;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
    const summary = {
      minutes, seed, requests: client.length, attempts: cluster.arrivals().length, outcomes, faults: faultsApplied,
      rssMb: { start: idleBefore.rssMb, afterWarmup: warm.rssMb, end: last.rssMb, max: Math.max(...samples.map((s) => s.rssMb)), idleAfter: idleAfter.rssMb, growthAfterWarmup: rssGrowthMb, limit: RSS_GROWTH_LIMIT_MB },
      fds: { idleStart: idleBefore.fds, max: Math.max(...samples.map((s) => s.fds)), endUnderLoad: last.fds, idleEnd: idleAfter.fds, growth: fdGrowth, limit: FD_GROWTH_LIMIT },
      invariants: violationCounts(result), violations: result.violations.length, budgetExcused: result.budgetExcused,
    };
    writeFileSync(join(BUILD_DIR, 'soak-result.json'), JSON.stringify({ ...summary, samples }, null, 2));
    log(JSON.stringify(summary, null, 2));
    for (const v of result.violations.slice(0, 20)) log(`  violation I${v.invariant} ${v.rid ?? ''}: ${v.detail}`);
    const failures = [
      result.violations.length > 0 ? `${result.violations.length} invariant violations` : '',
      rssGrowthMb > RSS_GROWTH_LIMIT_MB ? `RSS grew ${rssGrowthMb} MB after warm-up (limit ${RSS_GROWTH_LIMIT_MB})` : '',
      fdGrowth > FD_GROWTH_LIMIT ? `idle fds grew by ${fdGrowth} (limit ${FD_GROWTH_LIMIT})` : '',
    ].filter(Boolean);
    log(failures.length ? `soak: FAILED: ${failures.join('; ')}` : 'soak: passed (zero violations, RSS and fds flat)');
    process.exitCode = failures.length ? 1 : 0;
  } finally {
    await stopAll();
  }
}

function log(line: string): void { process.stdout.write(line + '\n'); }

main().catch((err) => {
  process.stderr.write(`soak: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
