// The fixture every live test of a proxy under test (HAProxy, NGINX, Caddy) stands on: real
// replicas s1…s4 started before the file's tests, the proxy started by its own launcher in a
// work folder of the file's, every process it starts found again at the end, and the ways a
// test asks what happened (the proxy's log, the replicas' own counts, the membership timeline).
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, type Dispatcher, request } from 'undici';
import { afterAll, beforeAll, expect } from 'vitest';
import type { ProxyName } from '../../experiments/proxies.ts';
import type { RunConfig } from '../../experiments/schema.ts';
import type { AccessRecord, ProxyLaunch, ProxyUnderTest } from '../../live/runner/proxies/types.ts';
import { ProcessRuntime } from '../../live/runner/runtime/process.ts';
import type { Replica, ReplicaSpec } from '../../live/runner/runtime/types.ts';

/** Requests per server that answered last (the proxy's own log). */
export const countByLastServer = (records: AccessRecord[]): Record<string, number> => records.reduce<Record<string, number>>((acc, r) => {
  const last = r.servers.at(-1);
  if (last) acc[last] = (acc[last] ?? 0) + 1;
  return acc;
}, {});

/** The servers each request with this id prefix went to, `s2|s3` for a retried one, space-separated. */
export const orderOf = (records: AccessRecord[], prefix: string): string => records.filter((r) => r.requestId.startsWith(prefix)).map((r) => r.servers.join('|')).join(' ');

/** After stop(): the membership timeline, one line a change (`s1(out) s2 s4`: s1 not routable). */
export const membersText = (proxy: ProxyUnderTest): string[] => proxy.members!().map((m) => m.servers.map((s) => `${s.id}${s.routable ? '' : '(out)'}`).join(' '));

export const isAlive = (pid: number): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };

/** PIDs of every process whose command line contains `text` (a test's own work folder). */
export function processesMentioning(text: string): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try { return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(text); } catch { return false; }
  }).map(Number);
}

type Launcher<S> = (launch: ProxyLaunch, settings: S) => Promise<ProxyUnderTest>;

export interface LaunchOptions {
  /** The servers at start (default s1…s3, or as many as `weights`), each with its weight (default 1). */
  backends?: Array<{ id: string; url: string; socketPath?: string }>;
  weights?: number[];
  /** Receives the launcher's log lines. */
  log?: string[];
  /** The proxy's folder (default a fresh one under the file's work folder). */
  workDir?: string;
  /** The run's config, for a launcher that reads it (the registry's); the settings launchers read only their settings. */
  config?: RunConfig;
}

/**
 * Registers the file's beforeAll/afterAll: fails at once when the binary is missing, starts
 * replicas s1…s4, and at the end stops every proxy and replica the file started.
 */
export function liveProxyKit<S>(name: ProxyName, versionArgs: string[], launcher: Launcher<S>) {
  const token = `${name}-live-token`;
  const runtime = new ProcessRuntime();
  const client = new Agent({ connections: 8, keepAliveTimeout: 1_000 });
  const started: ProxyUnderTest[] = [];
  const pids: number[] = [];
  let replicas: Replica[] = [];
  let work = '';

  /** A replica on loopback: 1 ms of service, the file's control token. */
  const startReplica = (id: string, seed: string, more: Partial<ReplicaSpec> = {}): Promise<Replica> => runtime.start({
    id, host: '127.0.0.1', serviceTimeMs: { dist: 'constant', value: 1 }, concurrency: 8, seed, controlToken: token, restart: false, ...more,
  });

  beforeAll(async () => {
    try { execFileSync(name, versionArgs, { stdio: 'ignore' }); } catch { throw new Error(`${name} is not installed: run npm run test:setup`); }
    work = await mkdtemp(join(tmpdir(), `fulcrum-${name}-`));
    replicas = await Promise.all(['s1', 's2', 's3', 's4'].map((id) => startReplica(id, id)));
  });

  afterAll(async () => {
    await Promise.allSettled(started.map((p) => p.stop()));
    await runtime.closeAll();
    await client.close();
    await rm(work, { recursive: true, force: true });
  });

  const pidLine = new RegExp(`^\\[${name}\\] pid (\\d+)`);

  /** Any launcher on the file's terms: its folder, its log, its PIDs remembered for the last check. */
  async function start(run: (launch: ProxyLaunch) => Promise<ProxyUnderTest>, o: LaunchOptions = {}): Promise<ProxyUnderTest> {
    const pool: NonNullable<LaunchOptions['backends']> = o.backends ?? replicas;
    const weights = o.weights ?? (o.backends ?? replicas.slice(0, 3)).map(() => 1);
    const backends = pool.slice(0, weights.length);
    const proxy = await run({
      backends: backends.map((r, i) => ({ id: r.id, url: r.url, weight: weights[i], ...(r.socketPath ? { socketPath: r.socketPath } : {}) })),
      config: o.config ?? (undefined as never), // the settings launchers read only the settings given beside it
      workDir: o.workDir ?? await mkdtemp(join(work, 'run-')),
      log: (line) => {
        o.log?.push(line);
        const pid = pidLine.exec(line)?.[1];
        if (pid) pids.push(Number(pid));
      },
    });
    started.push(proxy);
    return proxy;
  }

  return {
    token,
    runtime,
    get replicas(): Replica[] { return replicas; },
    get work(): string { return work; },
    /** The PIDs the proxy's launcher reported, in order. */
    pids,
    started,
    startReplica,
    start,
    /** The proxy's own launcher with these settings. */
    launch: (settings: S, o: LaunchOptions = {}): Promise<ProxyUnderTest> => start((l) => launcher(l, settings), o),
    /** A replica standing in for s2, to be killed. */
    victim: (seed: string): Promise<Replica> => startReplica('s2', seed),
    /** A proxy over s1, a stand-in s2 killed before the first request, and s3. */
    async launchWithDeadS2(settings: S, seed: string): Promise<ProxyUnderTest> {
      const s2 = await startReplica('s2', seed);
      const proxy = await start((l) => launcher(l, settings), { backends: [replicas[0], s2, replicas[2]] });
      await s2.crash();
      return proxy;
    },
    /** Requests <prefix>0 … <prefix>n-1, one after another; their statuses. */
    async sendAll(proxy: ProxyUnderTest, prefix: string, n: number): Promise<number[]> {
      const statuses: number[] = [];
      for (let i = 0; i < n; i++) statuses.push(await this.send(proxy, `${prefix}${i}`));
      return statuses;
    },
    /**
     * The records of requests <prefix>0 … in order, each answered 200 by its one server on the
     * first try; `counts` per server both in the proxy's log and at the replicas since `before`.
     */
    async expectCounted(records: AccessRecord[], prefix: string, counts: Record<string, number>, before: Record<string, number>): Promise<void> {
      const n = Object.values(counts).reduce((a, b) => a + b, 0);
      expect(records.map((r) => r.requestId)).toEqual(Array.from({ length: n }, (_, i) => `${prefix}${i}`));
      expect(countByLastServer(records)).toEqual(counts);
      expect(servedBetween(before, await this.served())).toEqual({ s1: 0, s2: 0, s3: 0, s4: 0, ...counts });
      expectOneGoodAttemptEach(records);
    },
    /** One GET / through the proxy with the given request id; its status. */
    async send(proxy: ProxyUnderTest, id: string, dispatcher: Dispatcher = client): Promise<number> {
      const res = await request(`${proxy.url}/`, { headers: { 'x-request-id': id }, dispatcher });
      await res.body.dump();
      return res.statusCode;
    },
    /** Requests each of s1…s4 says it served (its control endpoint); -1 for a replica that does not answer. */
    async served(): Promise<Record<string, number>> {
      const out: Record<string, number> = {};
      for (const r of replicas) {
        const res = await request(`${r.url}/__control`, { headers: { authorization: `Bearer ${token}` } }).catch(() => undefined);
        out[r.id] = res ? ((await res.body.json()) as { served: number }).served : -1;
      }
      return out;
    },
    /**
     * The membership scenario of every proxy with weights: s1 s2 at 1:1 (requests a0…a3), s1 at
     * weight 3 (b0…b7), s4 added at weight 2 (c0…c11), s1 removed (d0…d5). Check with expectWeightAddRemove.
     */
    async weightAddRemove(proxy: ProxyUnderTest): Promise<void> {
      const phase = async (prefix: string, n: number) => { for (let i = 0; i < n; i++) await this.send(proxy, `${prefix}${i}`); };
      await phase('a', 4);
      await proxy.change({ kind: 'weight', atMs: 0, server: 's1', weight: 3 });
      await phase('b', 8);
      await proxy.change({ kind: 'add', atMs: 0, server: 's4', weight: 2 }, replicas[3].url);
      await phase('c', 12);
      await proxy.change({ kind: 'remove', atMs: 0, server: 's1' });
      await phase('d', 6);
    },
    /** PIDs of every process whose command line names the file's work folder (its proxies' configs). */
    processesUnderWork: (): number[] => processesMentioning(work),
    /** `body` with the launcher pointed at a binary that does not exist (FULCRUM_<NAME>). */
    async withMissingBinary(body: () => Promise<void>): Promise<void> {
      const variable = `FULCRUM_${name.toUpperCase()}`;
      const saved = process.env[variable];
      process.env[variable] = join(work, `no-such-${name}`);
      try {
        await body();
      } finally {
        if (saved === undefined) delete process.env[variable]; else process.env[variable] = saved;
      }
    },
    /** Stops every proxy again (stop() is idempotent); none of the reported PIDs, nor anything under the work folder, is left. */
    async expectNothingLeft(minimumPids: number): Promise<void> {
      for (const p of started) await p.stop();
      expect(pids.length).toBeGreaterThanOrEqual(minimumPids);
      for (const pid of pids) expect(isAlive(pid), `pid ${pid}`).toBe(false);
      expect(processesMentioning(work)).toEqual([]);
    },
  };
}

/** What one served() call gave, subtracted from the next: the requests each replica served in between. */
const servedBetween = (before: Record<string, number>, after: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(after).map(([id, n]) => [id, n - before[id]]));

/** Requests per server that answered last, of the requests whose id starts with `prefix`. */
export const countOf = (records: AccessRecord[], prefix: string): Record<string, number> => countByLastServer(records.filter((r) => r.requestId.startsWith(prefix)));

/** weightAddRemove took effect at each change, and the membership timeline shows each change (s1 leaves maintenance-first). */
export function expectWeightAddRemove(records: AccessRecord[], proxy: ProxyUnderTest): void {
  expect(countOf(records, 'a')).toEqual({ s1: 2, s2: 2 });
  expect(countOf(records, 'b')).toEqual({ s1: 6, s2: 2 });
  expect(countOf(records, 'c')).toEqual({ s1: 6, s2: 2, s4: 4 });
  expect(countOf(records, 'd')).toEqual({ s2: 2, s4: 4 });
  expect(membersText(proxy)).toEqual(['s1 s2', 's1 s2 s4', 's1(out) s2 s4', 's2 s4']);
}

/** Every record: answered 200 by the one server tried, whose attempt ended after it started. */
function expectOneGoodAttemptEach(records: AccessRecord[]): void {
  for (const r of records) {
    expect(r.status).toBe(200);
    expect(r.attempts).toHaveLength(1);
    expect(r.attempts![0].ok).toBe(true);
    expect(r.attempts![0].endMs).toBeGreaterThanOrEqual(r.attempts![0].startMs);
  }
}
