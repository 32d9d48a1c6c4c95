// Proxy overhead on loopback: 3 replicas (constant 0 ms service time), then autocannon
// against (a) one replica directly, (b) the floor: a bare node:http + undici round-robin
// proxy on undici's request API, (c) the same on undici's dispatcher (Fulcrum's own way of
// forwarding, no body stream), (d) a bare @fastify/reply-from round-robin proxy, (e) Fulcrum
// with health checks, outlier detection, retries (with budget) and metrics on, (f) the same
// with the attempt log the live runner reads (--attempt-log), and (g) HAProxy, NGINX and
// Caddy when installed (bench/real-proxies.ts), all interleaved in the same run.
// Each proxy runs in its own process. With ≥ 4 cores and `taskset`, the proxies get the
// last core to themselves and everything else shares the rest, so the proxy under test is
// the bottleneck. On 2 cores that would make the load side the bottleneck instead, so there
// is no pinning and throughput swings ±30 % with the scheduler's mood: cases are therefore
// interleaved in short slices, each ratio is the median of per-round ratios, and the proxy
// process's CPU time per request (from /proc), which hardly depends on that, is reported too.
// The file doubles as the bare proxies' entry point (FULCRUM_BENCH_ROLE=bare-node | bare-dispatch | fastify-dispatch | bare).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { spawnReplica } from '../server/spawn.ts';
import { startRealProxies } from './real-proxies.ts';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  errors: number; timeouts: number; non2xx: number;
}
type Autocannon = (opts: { url: string; connections: number; duration: number; pipelining?: number; headers?: Record<string, string> }) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = import.meta.resolve('tsx');
const CONNECTIONS = 50;
const ROUNDS = 3;
const SLICE_S = 2; // ROUNDS × SLICE_S = 6 s measured per case
const WARMUP_S = 1;

interface Case { name: string; url: string; pid?: number }
interface Slice { rps: number; p50: number; p99: number; errors: number; cpuUsPerRequest?: number }

export default async function benchProxy(): Promise<{ title: string; columns: string[]; rows: (string | number)[][]; notes?: string[] }> {
  const replicas = await Promise.all([1, 2, 3].map((i) => spawnReplica({ id: `s${i}`, serviceTime: { dist: 'constant', value: 0 } })));
  const pinning = cpuPinning();
  if (pinning) for (const pid of [process.pid, ...replicas.map((r) => r.pid)]) pin(pid, pinning.others);
  const dir = mkdtempSync(join(tmpdir(), 'fulcrum-bench-'));
  const children: Array<{ stop(): Promise<void> }> = [];
  try {
    const urls = replicas.map((r) => r.url);
    const floor = await startChild([fileURLToPath(import.meta.url)], { FULCRUM_BENCH_ROLE: 'bare-node', FULCRUM_BENCH_BACKENDS: urls.join(',') });
    children.push(floor);
    const dispatchFloor = await startChild([fileURLToPath(import.meta.url)], { FULCRUM_BENCH_ROLE: 'bare-dispatch', FULCRUM_BENCH_BACKENDS: urls.join(',') });
    children.push(dispatchFloor);
    const fastifyFloor = await startChild([fileURLToPath(import.meta.url)], { FULCRUM_BENCH_ROLE: 'fastify-dispatch', FULCRUM_BENCH_BACKENDS: urls.join(',') });
    children.push(fastifyFloor);
    const bare = await startChild([fileURLToPath(import.meta.url)], { FULCRUM_BENCH_ROLE: 'bare', FULCRUM_BENCH_BACKENDS: urls.join(',') });
    children.push(bare);
    const config = join(dir, 'lb.json');
    writeFileSync(config, JSON.stringify({
      balancer: { policy: 'round-robin' },
      health: { active: { intervalMs: 1_000, timeoutMs: 500 }, outlier: {} },
      retry: { budget: {} },
      timeouts: { requestMs: 10_000, perTryMs: 5_000 },
    }));
    const fulcrumArgs = [join(ROOT, 'live/proxy/cli.ts'), '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0',
      '--config', config, '--seed', '1', ...urls.flatMap((u) => ['--backend', u])];
    const fulcrum = await startChild(fulcrumArgs, { FULCRUM_ADMIN_TOKEN: 'bench' });
    children.push(fulcrum);
    const logged = await startChild([...fulcrumArgs, '--attempt-log', join(dir, 'attempts.jsonl')], { FULCRUM_ADMIN_TOKEN: 'bench' });
    children.push(logged);
    const real = await startRealProxies(dir, urls.map((u) => new URL(u).host));
    children.push(...real.started);
    if (pinning) for (const pid of [floor.pid, dispatchFloor.pid, fastifyFloor.pid, bare.pid, fulcrum.pid, logged.pid, ...real.started.map((p) => p.pid)]) pin(pid, pinning.proxy);

    const cases: Case[] = [
      { name: 'direct to one replica', url: `${urls[0]}/home` },
      { name: 'bare node:http + undici round robin (the floor)', url: `${floor.url}/home`, pid: floor.pid },
      { name: 'bare node:http + undici dispatcher round robin', url: `${dispatchFloor.url}/home`, pid: dispatchFloor.pid },
      { name: 'bare Fastify + undici dispatcher round robin', url: `${fastifyFloor.url}/home`, pid: fastifyFloor.pid },
      { name: 'bare @fastify/reply-from round robin', url: `${bare.url}/home`, pid: bare.pid },
      { name: 'Fulcrum (health, outlier, retries+budget, metrics)', url: `${fulcrum.url}/home`, pid: fulcrum.pid },
      { name: 'Fulcrum + --attempt-log', url: `${logged.url}/home`, pid: logged.pid },
      ...real.started.map((p) => ({ name: p.name, url: `${p.url}/home`, pid: p.pid })),
    ];
    const FULCRUM = 5;
    const DISPATCH_FLOOR = 2;
    const FASTIFY_FLOOR = 3;
    for (const c of cases) await autocannon({ url: c.url, connections: CONNECTIONS, duration: WARMUP_S });
    const slices: Slice[][] = cases.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, c] of cases.entries()) slices[i].push(await measureSlice(c));
    }
    const metrics = await (await fetch(`${fulcrum.adminUrl}/metrics`, { headers: { authorization: 'Bearer bench' } })).text();

    const base = slices[1]; // the floor
    const rows = cases.map((c, i) => {
      const s = slices[i];
      const cpu = s.every((x) => x.cpuUsPerRequest !== undefined) ? Math.round(median(s.map((x) => x.cpuUsPerRequest!))) : '-';
      const cpuRatio = typeof cpu === 'number' ? round2(median(s.map((x, r) => base[r].cpuUsPerRequest! / x.cpuUsPerRequest!))) : '-';
      return [
        c.name, Math.round(mean(s.map((x) => x.rps))), median(s.map((x) => x.p50)), median(s.map((x) => x.p99)), cpu,
        round2(median(s.map((x, r) => x.rps / base[r].rps))), cpuRatio, s.reduce((n, x) => n + x.errors, 0),
      ];
    });
    const versusDispatch = {
      rps: round2(median(slices[FULCRUM].map((x, r) => x.rps / slices[DISPATCH_FLOOR][r].rps))),
      cpu: round2(median(slices[FULCRUM].map((x, r) => slices[DISPATCH_FLOOR][r].cpuUsPerRequest! / x.cpuUsPerRequest!))),
    };
    // Fastify's share: its bare proxy against node:http on the same dispatcher; Fulcrum against it: the features'.
    const fastifyCost = round2(median(slices[FASTIFY_FLOOR].map((x, r) => slices[DISPATCH_FLOOR][r].cpuUsPerRequest! / x.cpuUsPerRequest!)));
    const versusFastify = {
      rps: round2(median(slices[FULCRUM].map((x, r) => x.rps / slices[FASTIFY_FLOOR][r].rps))),
      cpu: round2(median(slices[FULCRUM].map((x, r) => slices[FASTIFY_FLOOR][r].cpuUsPerRequest! / x.cpuUsPerRequest!))),
    };
    const logCost = median(slices[FULCRUM + 1].map((x, r) => x.cpuUsPerRequest! / slices[FULCRUM][r].cpuUsPerRequest!));
    // Fulcrum against each reference proxy, per round: req/s ratio and CPU per request ratio.
    const versus = real.started.map((p, i) => {
      const s = slices[FULCRUM + 2 + i];
      const rps = round2(median(slices[FULCRUM].map((x, r) => x.rps / s[r].rps)));
      const cpu = round2(median(slices[FULCRUM].map((x, r) => x.cpuUsPerRequest! / s[r].cpuUsPerRequest!)));
      return `${rps}× ${p.name.split(' (')[0]}'s req/s at ${cpu}× its CPU per request`;
    });
    const counter = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    return {
      title: `Proxy overhead (loopback, ${CONNECTIONS} connections, GET /home, 3 replicas at 0 ms; ${ROUNDS} interleaved ${SLICE_S} s slices per case)`,
      columns: ['target', 'requests/s', 'p50 ms', 'p99 ms', 'proxy CPU µs/request', '× floor req/s', '× floor efficiency (CPU)', 'errors'],
      rows,
      notes: [
        '× floor req/s: median over rounds of (case req/s ÷ the bare node:http + undici proxy\'s req/s in the same round). × floor efficiency: the floor\'s CPU per request ÷ the case\'s (1 = same cost, higher = cheaper). Fulcrum must stay at ≥ 1.0× the floor.',
        `The floor forwards with undici's request API, as a bare proxy would; Fulcrum forwards with undici's dispatcher (no stream around each answer's body). Against a bare proxy that does the same, Fulcrum is ${versusDispatch.rps}× its req/s and ${versusDispatch.cpu}× its efficiency: the cost of Fastify and every feature.`,
        `Fastify alone (the same dispatcher behind one catch-all route and a hijacked reply, as Fulcrum's) has ${fastifyCost}× the efficiency of node:http on that dispatcher; against that bare Fastify proxy Fulcrum is ${versusFastify.rps}× its req/s and ${versusFastify.cpu}× its efficiency: the cost of every feature.`,
        ...(versus.length ? [`Fulcrum (all features on) is ${versus.join('; ')} (medians of per-round ratios).`] : []),
        ...(real.missing.length ? [`Not installed, so not measured: ${real.missing.join(', ')}.`] : []),
        `The attempt log costs ×${round2(logCost)} Fulcrum's CPU per request (median over rounds of logged ÷ plain); the live runner runs the proxy with it.`,
        `Fulcrum routed ${counter('fulcrum_router_requests_total')} requests in ${counter('fulcrum_router_attempts_total')} attempts (${counter('fulcrum_router_retries_total')} retries) including warm-up.`,
        pinning
          ? `Node ${process.version}; each proxy pinned to CPU ${pinning.proxy}, replicas and autocannon to CPUs ${pinning.others} (taskset).`
          : `Node ${process.version}; ${availableParallelism()} cores, no CPU pinning (needs taskset and ≥ 4 cores): proxies, replicas and autocannon compete for the same cores.`,
      ],
    };
  } finally {
    await Promise.allSettled([...children.map((c) => c.stop()), ...replicas.map((r) => r.stop())]);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measureSlice(c: Case): Promise<Slice> {
  const cpuBefore = cpuMicros(c.pid);
  // The live runner's load generator sends an id with every request; the attempt log writes it.
  const r = await autocannon({ url: c.url, connections: CONNECTIONS, duration: SLICE_S, headers: { 'x-request-id': '1234567' } });
  const cpuAfter = cpuMicros(c.pid);
  const cpuUsPerRequest = cpuBefore !== undefined && cpuAfter !== undefined && r.requests.total > 0
    ? (cpuAfter - cpuBefore) / r.requests.total : undefined;
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx, cpuUsPerRequest };
}

/** With taskset and ≥ 4 cores: the last core for the proxy under test, the rest for everything else. */
function cpuPinning(): { proxy: string; others: string } | undefined {
  const cores = availableParallelism();
  if (cores < 4 || process.platform !== 'linux') return undefined;
  try { execFileSync('taskset', ['-V'], { stdio: 'ignore' }); } catch { return undefined; }
  return { proxy: String(cores - 1), others: `0-${cores - 2}` };
}

/** All threads of `pid` (libuv and V8 workers included). */
function pin(pid: number, cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

/** User + system CPU time of a process in µs (Linux /proc; clock ticks are 10 ms). */
function cpuMicros(pid: number | undefined): number | undefined {
  if (pid === undefined || !existsSync(`/proc/${pid}/stat`)) return undefined;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const round2 = (x: number) => Math.round(x * 100) / 100;
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Starts a TypeScript entry point as a child and waits for its JSON ready line. */
async function startChild(args: string[], env: Record<string, string>): Promise<{ url: string; adminUrl?: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', TSX, ...args], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, ...env },
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-4_000); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<{ url: string; adminUrl?: string }>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`not ready: ${stderr}`)); }, 20_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; url?: string; adminUrl?: string };
        if (msg.event === 'ready') { clearTimeout(timer); resolve({ url: msg.url!, adminUrl: msg.adminUrl }); }
      } catch { /* not a JSON line */ }
    });
    exited.then(() => { clearTimeout(timer); reject(new Error(`exited before ready: ${stderr}`)); });
  });
  let stopping: Promise<void> | undefined;
  return {
    ...ready,
    pid: child.pid!,
    stop: () => (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    })()),
  };
}

/**
 * The floor for this design (issue 18): node:http in front, undici pools behind, round robin
 * in a line, hop-by-hop headers dropped both ways (RFC 9110 §7.6.1), nothing else.
 */
async function runBareNodeProxy(): Promise<void> {
  const { createServer } = await import('node:http');
  const { Pool } = await import('undici');
  const pools = process.env.FULCRUM_BENCH_BACKENDS!.split(',').map((u) => new Pool(u, { connections: 128, pipelining: 1 }));
  let next = 0;
  const server = createServer((req, res) => {
    const pool = pools[next++ % pools.length];
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    pool.request({ path: req.url!, method: req.method as 'GET', headers: endToEnd(req.headers), body: hasBody ? req : undefined }).then(
      (up) => { res.writeHead(up.statusCode, endToEnd(up.headers)); up.body.pipe(res); },
      () => { if (!res.headersSent) res.writeHead(502); res.end(); },
    );
  });
  await listen(server);
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host']);
function endToEnd(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

/** Listens on a free loopback port, prints the ready line, and exits on SIGTERM. */
async function listen(server: import('node:http').Server): Promise<void> {
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  process.stdout.write(JSON.stringify({ event: 'ready', url: `http://127.0.0.1:${port}` }) + '\n');
  process.on('SIGTERM', () => { server.close(); process.exit(0); });
}

/** The floor's twin on undici's dispatcher: the head goes out when it arrives, the body chunk by chunk, with backpressure. */
async function runBareDispatchProxy(): Promise<void> {
  const { createServer } = await import('node:http');
  const { Pool } = await import('undici');
  const pools = process.env.FULCRUM_BENCH_BACKENDS!.split(',').map((u) => new Pool(u, { connections: 128, pipelining: 1 }));
  let next = 0;
  const server = createServer((req, res) => relayDispatched(pools[next++ % pools.length], req, res));
  await listen(server);
}

/** Forwards `req` through undici's dispatcher: the head goes out when it arrives (after `beforeHead`), the body chunk by chunk, with backpressure. */
function relayDispatched(pool: import('undici').Pool, req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, beforeHead = () => {}): void {
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  pool.dispatch({ path: req.url!, method: req.method as 'GET', headers: endToEnd(req.headers), body: hasBody ? req : undefined }, {
    onRequestStart() {},
    onResponseStart(_c, status, headers) { beforeHead(); res.writeHead(status, endToEnd(headers)); },
    onResponseData(c, chunk) { if (!res.write(chunk)) { c.pause(); res.once('drain', () => c.resume()); } },
    onResponseEnd() { res.end(); },
    onResponseError() { beforeHead(); if (!res.headersSent) res.writeHead(502); res.end(); },
  });
}

/**
 * The floor of a proxy built on Fastify, as Fulcrum is: the dispatch proxy above behind one
 * catch-all route, request bodies left unread, the reply hijacked and written raw.
 */
async function runFastifyDispatchProxy(): Promise<void> {
  const { default: Fastify } = await import('fastify');
  const { Pool } = await import('undici');
  const pools = process.env.FULCRUM_BENCH_BACKENDS!.split(',').map((u) => new Pool(u, { connections: 128, pipelining: 1 }));
  const app = Fastify({ logger: false });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  let next = 0;
  app.all('/*', (request, reply) => relayDispatched(pools[next++ % pools.length], request.raw, reply.raw, () => reply.hijack()));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  process.stdout.write(JSON.stringify({ event: 'ready', url: `http://127.0.0.1:${port}` }) + '\n');
  process.on('SIGTERM', () => { app.close().then(() => process.exit(0)); });
}

/** The comparison point: reply-from's own balancing-free forwarding, round robin in a line. */
async function runBareProxy(): Promise<void> {
  const { default: Fastify } = await import('fastify');
  const { default: replyFrom } = await import('@fastify/reply-from');
  const upstreams = process.env.FULCRUM_BENCH_BACKENDS!.split(',');
  const app = Fastify({ logger: false });
  // retryMethods: [] switches off reply-from's hidden GET-on-503 retries (reliability.md §3).
  await app.register(replyFrom, { undici: { connections: 128, pipelining: 1 }, retryMethods: [] });
  let next = 0;
  app.all('/*', (_request, reply) => reply.from(undefined, { getUpstream: () => upstreams[next++ % upstreams.length] }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  process.stdout.write(JSON.stringify({ event: 'ready', url: `http://127.0.0.1:${port}` }) + '\n');
  process.on('SIGTERM', () => { app.close().then(() => process.exit(0)); });
}

if (process.env.FULCRUM_BENCH_ROLE === 'bare-node') {
  runBareNodeProxy().catch((err) => { process.stderr.write(String(err?.stack ?? err) + '\n'); process.exit(1); });
} else if (process.env.FULCRUM_BENCH_ROLE === 'bare-dispatch') {
  runBareDispatchProxy().catch((err) => { process.stderr.write(String(err?.stack ?? err) + '\n'); process.exit(1); });
} else if (process.env.FULCRUM_BENCH_ROLE === 'fastify-dispatch') {
  runFastifyDispatchProxy().catch((err) => { process.stderr.write(String(err?.stack ?? err) + '\n'); process.exit(1); });
} else if (process.env.FULCRUM_BENCH_ROLE === 'bare') {
  runBareProxy().catch((err) => { process.stderr.write(String(err?.stack ?? err) + '\n'); process.exit(1); });
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  benchProxy().then((r) => {
    process.stdout.write(`${r.title}\n${r.columns.join(' | ')}\n${r.rows.map((x) => x.join(' | ')).join('\n')}\n${(r.notes ?? []).join('\n')}\n`);
  }, (err) => { process.stderr.write(String(err?.stack ?? err) + '\n'); process.exit(1); });
}
