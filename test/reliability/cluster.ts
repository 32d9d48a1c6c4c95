// A cluster for reliability runs: replica processes (restartable on the same port), an
// optional fault proxy in front of each, and the Fulcrum proxy either in-process or as a
// child process of the CLI (needed to SIGKILL it, and to measure its RSS and fds alone).
// Everything started here is stopped by `stop()`; histories survive restarts.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import type { Distribution } from '../../core/distributions.ts';
import { type RunningProxy, startProxy } from '../../live/proxy/start.ts';
import type { RequestLogEntry, ResponseLogEntry } from '../../server/replica.ts';
import { type SpawnedReplica, spawnReplica } from '../../server/spawn.ts';
import { type FaultProxy, startFaultProxy } from './fault-proxy.ts';
import { BUILD_DIR } from './paths.ts';

export const CONTROL_TOKEN = 'rel-control-token';
export const ADMIN_TOKEN = 'rel-admin-token';
const PROXY_CLI = fileURLToPath(new URL('../../live/proxy/cli.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** The routing most scenarios use: fast health checks and ejection, retries with a budget, short timeouts. */
export const ROUTING = {
  balancer: { policy: 'p2c' },
  health: {
    active: { intervalMs: 150, timeoutMs: 120, fall: 2, rise: 2 },
    outlier: { consecutiveFailures: 3, baseEjectionMs: 2_000, maxEjectionPercent: 50 },
  },
  retry: { maxAttempts: 3, backoffBaseMs: 5, backoffMaxMs: 20, budget: { ratio: 0.2, minConcurrent: 8 } },
  timeouts: { requestMs: 3_000, perTryMs: 800, connectMs: 200 },
};

export interface ClusterOptions {
  name: string;
  replicas: number;
  serviceTime?: Distribution;
  routing?: typeof ROUTING | Record<string, unknown>;
  /** Put a fault proxy between the proxy and each replica. */
  faultProxies?: boolean;
  /** Run the proxy as a child process of `npm run proxy`. */
  childProxy?: boolean;
  seed?: number;
}

export interface Cluster {
  readonly url: string;
  readonly adminUrl: string;
  /** Current replica processes, s1..sN by index. */
  readonly replicas: SpawnedReplica[];
  readonly faultProxies: FaultProxy[];
  /** The in-process proxy (absent with childProxy). */
  readonly proxy: RunningProxy | undefined;
  /** The child proxy's pid (childProxy only). */
  proxyPid(): number | undefined;
  /** All arrivals and full answers every replica process ever logged. */
  arrivals(): RequestLogEntry[];
  responses(): ResponseLogEntry[];
  /** SIGKILLs replica i (if alive) and starts it again on the same port. */
  restartReplica(i: number): Promise<void>;
  /** SIGKILLs the child proxy; `startChildProxy` brings it back on the same ports. */
  killProxy(): Promise<void>;
  startChildProxy(): Promise<void>;
  metricsText(): Promise<string>;
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }>;
  stop(): Promise<void>;
}

export async function startCluster(o: ClusterOptions): Promise<Cluster> {
  mkdirSync(BUILD_DIR, { recursive: true });
  const routing = o.routing ?? ROUTING;
  const retired: SpawnedReplica[] = [];
  const spawnOne = (i: number, port?: number) => spawnReplica({
    id: `s${i + 1}`, port, controlToken: CONTROL_TOKEN, logRequests: true, seed: (o.seed ?? 1) * 100 + i,
    serviceTime: o.serviceTime ?? { dist: 'exponential', mean: 2 },
  });
  const replicas = await Promise.all(Array.from({ length: o.replicas }, (_, i) => spawnOne(i)));
  const faultProxies = o.faultProxies ? await Promise.all(replicas.map((r) => startFaultProxy({ port: r.port }))) : [];
  const backends = replicas.map((r, i) => ({ id: r.id, url: faultProxies[i]?.url ?? r.url }));

  let proxy: RunningProxy | undefined;
  let child: { process: ChildProcess; exited: Promise<void>; pid: number } | undefined;
  let url = '';
  let adminUrl = '';
  const configFile = join(BUILD_DIR, `${o.name}.routing.json`);
  writeFileSync(configFile, JSON.stringify(routing));

  const startChildProxy = async () => {
    const port = url ? new URL(url).port : '0';
    const adminPort = adminUrl ? new URL(adminUrl).port : '0';
    const args = ['--import', TSX, PROXY_CLI, '--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${adminPort}`,
      '--config', configFile, '--seed', String(o.seed ?? 42), ...backends.flatMap((b) => ['--backend', `${b.id}=${b.url}`])];
    const proc = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, HOME: process.env.HOME, FULCRUM_ADMIN_TOKEN: ADMIN_TOKEN },
    });
    let stderr = '';
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-4_000); });
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const ready = await new Promise<{ url: string; adminUrl: string; pid: number }>((resolve, reject) => {
      const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`proxy not ready: ${stderr}`)); }, 20_000);
      createInterface({ input: proc.stdout! }).on('line', (line) => {
        try {
          const m = JSON.parse(line);
          if (m.event === 'ready') { clearTimeout(timer); resolve(m); }
        } catch { /* access log or other output */ }
      });
      exited.then(() => { clearTimeout(timer); reject(new Error(`proxy exited before ready: ${stderr}`)); });
    });
    child = { process: proc, exited, pid: ready.pid };
    url = ready.url;
    adminUrl = ready.adminUrl;
  };

  if (o.childProxy) {
    await startChildProxy();
  } else {
    proxy = await startProxy({ backends, routing, adminToken: ADMIN_TOKEN, seed: o.seed ?? 42 });
    url = proxy.url;
    adminUrl = proxy.adminUrl!;
  }

  const adminCall = async (method: string, path: string, body?: unknown) => {
    const res = await request(`${adminUrl}${path}`, {
      method: method as 'GET',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.body.text();
    let json: unknown;
    try { json = JSON.parse(text); } catch { json = text; }
    return { status: res.statusCode, json };
  };

  return {
    get url() { return url; },
    get adminUrl() { return adminUrl; },
    replicas, faultProxies, proxy,
    proxyPid: () => child?.pid,
    arrivals: () => [...retired, ...replicas].flatMap((r) => r.requests),
    responses: () => [...retired, ...replicas].flatMap((r) => r.responses),
    async restartReplica(i) {
      const old = replicas[i];
      old.kill('SIGKILL');
      await old.exited;
      retired.push(old);
      replicas[i] = await spawnOne(i, old.port);
    },
    async killProxy() {
      if (!child) throw new Error('killProxy needs childProxy');
      child.process.kill('SIGKILL');
      await child.exited;
    },
    startChildProxy,
    async metricsText() { return String((await adminCall('GET', '/metrics')).json); },
    admin: adminCall,
    async stop() {
      if (child) { child.process.kill('SIGKILL'); await child.exited; }
      await Promise.allSettled([proxy?.close(1_000), ...faultProxies.map((f) => f.close())]);
      await Promise.allSettled(replicas.map((r) => r.stop(1_000)));
    },
  };
}
