// The real HAProxy 2.6 in front of three real replicas, started by the launcher the live
// runner uses: what it routes (checked against the replicas' own counts), what its access
// log says about retries and redispatches, membership changes through its runtime API, and
// no process left behind.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countByLastServer, servedByReplica, isAlive, processesMentioning, sendThrough } from './proxy-kit.ts';
import { Agent, type Dispatcher, request } from 'undici';
import type { HaproxySettings } from '../../experiments/proxies/haproxy-settings.ts';
import { haproxyLauncher, launchHaproxy } from '../../live/runner/proxies/haproxy/launcher.ts';
import { loadExperiment } from '../../experiments/schema.ts';
import type { ProxyUnderTest } from '../../live/runner/proxies/types.ts';
import { ProcessRuntime } from '../../live/runner/runtime/process.ts';
import type { Replica } from '../../live/runner/runtime/types.ts';

const TOKEN = 'haproxy-live-token';
const runtime = new ProcessRuntime();
const client = new Agent({ connections: 8, keepAliveTimeout: 1_000 });
const started: ProxyUnderTest[] = [];
const haproxyPids: number[] = [];
let replicas: Replica[] = [];
let work: string;

const settings = (s: Partial<HaproxySettings> = {}): HaproxySettings => ({
  balance: { algorithm: 'roundrobin' }, retries: 0, retryOn: ['conn-failure'],
  timeouts: { connectMs: 500, serverMs: 10_000, clientMs: 10_000 }, ...s,
});

beforeAll(async () => {
  try { execFileSync('haproxy', ['-v'], { stdio: 'ignore' }); } catch { throw new Error('haproxy is not installed: run npm run test:setup'); }
  work = await mkdtemp(join(tmpdir(), 'fulcrum-haproxy-'));
  replicas = await Promise.all(['s1', 's2', 's3', 's4'].map((id) => runtime.start({
    id, host: '127.0.0.1', serviceTimeMs: { dist: 'constant', value: 1 }, concurrency: 8, seed: id, controlToken: TOKEN, restart: false,
  })));
});

afterAll(async () => {
  await Promise.allSettled(started.map((p) => p.stop()));
  await runtime.closeAll();
  await client.close();
  await rm(work, { recursive: true, force: true });
});

async function launch(s: HaproxySettings, weights = [1, 1, 1], backends = replicas, log: string[] = []): Promise<ProxyUnderTest> {
  const workDir = await mkdtemp(join(work, 'run-'));
  const proxy = await launchHaproxy({
    backends: backends.slice(0, weights.length).map((r, i) => ({ id: r.id, url: r.url, weight: weights[i] })),
    config: undefined as never, // the launcher reads only the settings given beside it
    workDir,
    log: (line) => {
      log.push(line);
      const pid = /^\[haproxy\] pid (\d+)/.exec(line)?.[1];
      if (pid) haproxyPids.push(Number(pid));
    },
  }, s);
  started.push(proxy);
  return proxy;
}

/** A replica standing in for s2, to be killed. */
const victim = (seed: string) => runtime.start({ id: 's2', host: '127.0.0.1', serviceTimeMs: { dist: 'constant', value: 1 }, concurrency: 8, seed, controlToken: TOKEN, restart: false });

const served = (): Promise<Record<string, number>> => servedByReplica(replicas, TOKEN);

const send = (proxy: ProxyUnderTest, id: string, dispatcher: Dispatcher = client): Promise<number> => sendThrough(proxy, id, dispatcher);

const countBy = countByLastServer;

const alive = isAlive;

/** PIDs of every process whose command line names this file's work folder (its HAProxies' configs). */
const processesUnderWork = (): number[] => processesMentioning(work);

describe('the real HAProxy under test', () => {
  it('weighted round robin: the order HAProxy logs and the replicas\' own counts agree (1:2:3)', async () => {
    const before = await served();
    const proxy = await launch(settings(), [1, 2, 3]);
    expect(processesUnderWork()).toEqual([haproxyPids.at(-1)]); // the finder sees a running HAProxy
    expect(proxy.pid).toBe(haproxyPids.at(-1)); // npm run calibrate reads its CPU time
    for (let i = 0; i < 60; i++) expect(await send(proxy, `w${i}`)).toBe(200);
    // HAProxy's own Prometheus exporter (the runner's --metrics), on a listener of its own.
    const metrics = await proxy.metrics!();
    expect(metrics).toMatch(/^haproxy_server_http_responses_total\{proxy="servers",server="s3",code="2xx"\} 30$/m);
    const records = await proxy.stop();
    const after = await served();
    expect(records.map((r) => r.requestId)).toEqual(Array.from({ length: 60 }, (_, i) => `w${i}`));
    // HAProxy's own first cycle (haproxy-facts.md 6): the heaviest server first.
    expect(records.slice(0, 6).map((r) => r.servers.join('|'))).toEqual(['s3', 's2', 's3', 's1', 's3', 's2']);
    expect(countBy(records)).toEqual({ s1: 10, s2: 20, s3: 30 });
    expect({ s1: after.s1 - before.s1, s2: after.s2 - before.s2, s3: after.s3 - before.s3 }).toEqual({ s1: 10, s2: 20, s3: 30 });
    for (const r of records) {
      expect(r.attempts).toHaveLength(1);
      expect(r.attempts![0].endMs).toBeGreaterThanOrEqual(r.attempts![0].startMs);
    }
  });

  it('runtime API: weight, add and remove take effect; HAProxy\'s errors surface with its text', async () => {
    const proxy = await launch(settings(), [1, 1]);
    for (let i = 0; i < 4; i++) await send(proxy, `a${i}`);
    await proxy.change({ kind: 'weight', atMs: 0, server: 's1', weight: 3 });
    for (let i = 0; i < 8; i++) await send(proxy, `b${i}`);
    await proxy.change({ kind: 'add', atMs: 0, server: 's4', weight: 2 }, replicas[3].url);
    for (let i = 0; i < 12; i++) await send(proxy, `c${i}`);
    await proxy.change({ kind: 'remove', atMs: 0, server: 's1' });
    for (let i = 0; i < 6; i++) await send(proxy, `d${i}`);
    await expect(proxy.change({ kind: 'weight', atMs: 0, server: 'nope', weight: 2 })).rejects.toThrow(/haproxy: set server servers\/nope weight 2: .*(No such|not found)/i);
    await expect(proxy.change({ kind: 'weight', atMs: 0, server: 's2', weight: 2.5 })).rejects.toThrow('s2: weight 2.5 cannot be expressed');
    const records = await proxy.stop();
    const phase = (p: string) => countBy(records.filter((r) => r.requestId.startsWith(p)));
    expect(phase('a')).toEqual({ s1: 2, s2: 2 });
    expect(phase('b')).toEqual({ s1: 6, s2: 2 });
    expect(phase('c')).toEqual({ s1: 6, s2: 2, s4: 4 });
    expect(phase('d')).toEqual({ s2: 2, s4: 4 });
    // Membership as the timeline sees it: s4 joined, s1 left maintenance-first, then the backend.
    const members = proxy.members!().map((m) => m.servers.map((s) => `${s.id}${s.routable ? '' : '(out)'}`).join(' '));
    expect(members).toEqual(['s1 s2', 's1 s2 s4', 's1(out) s2 s4', 's2 s4']);
  });

  it('a killed replica, retries 2, option redispatch: one immediate retry, logged `+1`, served elsewhere', async () => {
    const s2 = await victim('v');
    const proxy = await launch(settings({ retries: 2, redispatch: -1 }), [1, 1, 1], [replicas[0], s2, replicas[2]]);
    await s2.crash();
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) statuses.push(await send(proxy, `k${i}`));
    const records = await proxy.stop();
    expect(statuses).toEqual(Array(9).fill(200));
    const retried = records.filter((r) => r.servers.length > 1);
    // Round robin s1, s2→s3, s1, s2→s3 …: the redispatch takes s2's turn and s3's (haproxy-facts.md 2).
    expect(retried.map((r) => r.requestId)).toEqual(['k1', 'k3', 'k5', 'k7']);
    expect(countBy(records)).toEqual({ s1: 5, s3: 4 });
    for (const r of retried) {
      expect(r.servers[0]).toBe('s2'); // the only server whose redispatch counter moved
      expect(r.servers).toHaveLength(2);
      expect(r.attempts!.map((a) => a.ok)).toEqual([false, true]);
    }
  });

  it('retries 2 without redispatch on a dead server: two turn-arounds of timeout connect, then 503 after 3 tries', async () => {
    const s2 = await victim('w');
    const proxy = await launch(settings({ retries: 2, timeouts: { connectMs: 150, serverMs: 10_000, clientMs: 10_000 } }), [1, 1, 1], [replicas[0], s2, replicas[2]]);
    await s2.crash();
    const t0 = performance.now();
    expect(await send(proxy, 'n0')).toBe(200);
    expect(await send(proxy, 'n1')).toBe(503);
    const deadMs = performance.now() - t0;
    const records = await proxy.stop();
    const dead = records.find((r) => r.requestId === 'n1')!;
    expect(dead.servers).toEqual(['s2', 's2', 's2']);
    expect(dead.status).toBe(503);
    const spanMs = dead.attempts!.at(-1)!.endMs - dead.attempts![0].startMs;
    expect(spanMs).toBeGreaterThanOrEqual(295);
    expect(deadMs).toBeGreaterThanOrEqual(295);
  });

  it('observe layer7 error-limit 2 on-error mark-down: the 2nd consecutive 500 takes s2 out, and the timeline says so', async () => {
    const s2 = await victim('o');
    const proxy = await launch(settings({
      check: { path: '/heartbeat', interMs: 20_000, rise: 2, fall: 3 }, // no check runs again during the test
      observe: { errorLimit: 2, onError: 'mark-down' },
      timeouts: { connectMs: 500, serverMs: 10_000, clientMs: 10_000, checkMs: 1_000 },
    }), [1, 1, 1], [replicas[0], s2, replicas[2]]);
    const control = await request(`${s2.url}/__control`, {
      method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ mode: 'error', status: 500 }),
    });
    await control.body.dump();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push(await send(proxy, `o${i}`));
    const records = await proxy.stop();
    await s2.stop();
    // s2 answered o1 and o4 with 500; then HAProxy marked it down and only s1/s3 served.
    expect(records.map((r) => r.servers.join('|')).join(' ')).toBe('s1 s2 s3 s1 s2 s3 s1 s3 s1 s3 s1 s3');
    expect(statuses.filter((s) => s === 500)).toHaveLength(2);
    const last = proxy.members!().at(-1)!;
    expect(last.servers).toEqual([{ id: 's1', routable: true }, { id: 's2', routable: false }, { id: 's3', routable: true }]);
  });

  it('start-up failures are errors with the reason, and leave no process', async () => {
    const saved = process.env.FULCRUM_HAPROXY;
    process.env.FULCRUM_HAPROXY = join(work, 'no-such-haproxy');
    try {
      await expect(launch(settings())).rejects.toThrow(/cannot start .*no-such-haproxy \(spawn .* ENOENT\); install it with npm run test:setup/);
    } finally {
      if (saved === undefined) delete process.env.FULCRUM_HAPROXY; else process.env.FULCRUM_HAPROXY = saved;
    }
    // HAProxy refuses the config (an unknown retry-on keyword): its own message comes back.
    await expect(launch(settings({ retryOn: ['no-such-event'] }))).rejects.toThrow(/haproxy exited before it was ready: .*no-such-event/);
    expect(processesUnderWork()).toEqual([]); // the earlier tests stopped theirs; the failed starts left none
  });

  it('the registry\'s launcher announces changes HAProxy will refuse, and the run shows HAProxy refusing them (A-4 ip-hash: add s4 under map-based source)', async () => {
    const plan = await loadExperiment('experiments/a4.json');
    const run = plan.runs.find((r) => r.variant?.name === 'ip-hash')!;
    const log: string[] = [];
    const proxy = await haproxyLauncher({ backends: replicas.slice(0, 3).map((r) => ({ id: r.id, url: r.url, weight: 1 })), config: run.config, workDir: await mkdtemp(join(work, 'run-')), log: (l) => log.push(l) });
    started.push(proxy);
    expect(log).toContain('[haproxy] will fail: changes[0].add: "s4": HAProxy\'s static source with hash-type map-based cannot add a server at run time; use roundrobin, or hash-type consistent');
    await expect(proxy.change(run.config.changes[0], replicas[3].url)).rejects.toThrow('Backend must use a dynamic load balancing to support dynamic servers');
    await proxy.stop();
  });

  it('nothing is left running: every HAProxy this file started is gone, and stop() is idempotent', async () => {
    for (const p of started) await p.stop();
    expect(haproxyPids.length).toBeGreaterThanOrEqual(4);
    for (const pid of haproxyPids) expect(alive(pid)).toBe(false);
    expect(processesUnderWork()).toEqual([]);
  });
});
