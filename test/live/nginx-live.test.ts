// The real NGINX 1.22 in front of real replicas, started by the launcher the live runner
// uses: what it routes (checked against the replicas' own counts), what its access log says
// about every attempt, membership changes through reloads, and no process left behind.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countByLastServer, servedByReplica, isAlive, processesMentioning, sendThrough } from './proxy-kit.ts';
import { Agent, Client, type Dispatcher, request } from 'undici';
import type { NginxSettings } from '../../experiments/proxies/nginx-settings.ts';
import { launchNginx } from '../../live/runner/proxies/nginx/launcher.ts';
import { type ProxyUnderTest, replicaSocketPath } from '../../live/runner/proxies/types.ts';
import { ProcessRuntime } from '../../live/runner/runtime/process.ts';
import type { Replica } from '../../live/runner/runtime/types.ts';

const TOKEN = 'nginx-live-token';
const runtime = new ProcessRuntime();
const client = new Agent({ connections: 8, keepAliveTimeout: 1_000 });
const started: ProxyUnderTest[] = [];
const nginxPids: number[] = [];
let replicas: Replica[] = [];
let work: string;

const settings = (s: Partial<NginxSettings> = {}): NginxSettings => ({
  balance: { method: 'round-robin' }, nextUpstream: ['error', 'timeout'], nextUpstreamTries: 0, nextUpstreamTimeoutMs: 0,
  maxFails: 1, failTimeoutMs: 10_000, timeouts: { connectMs: 500, readMs: 10_000, sendMs: 10_000 }, workerProcesses: 1, zone: false, ...s,
});

beforeAll(async () => {
  try { execFileSync('nginx', ['-v'], { stdio: 'ignore' }); } catch { throw new Error('nginx is not installed: run npm run test:setup'); }
  work = await mkdtemp(join(tmpdir(), 'fulcrum-nginx-'));
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

async function launch(s: NginxSettings, weights = [1, 1, 1], backends = replicas): Promise<ProxyUnderTest> {
  const workDir = await mkdtemp(join(work, 'run-'));
  const proxy = await launchNginx({
    backends: backends.slice(0, weights.length).map((r, i) => ({ id: r.id, url: r.url, weight: weights[i] })),
    config: undefined as never, // the launcher reads only the settings given beside it
    workDir,
    log: () => {},
  }, s);
  nginxPids.push(proxy.pid!);
  started.push(proxy);
  return proxy;
}

/** A replica standing in for s2, to be killed. */
const victim = (seed: string) => runtime.start({ id: 's2', host: '127.0.0.1', serviceTimeMs: { dist: 'constant', value: 1 }, concurrency: 8, seed, controlToken: TOKEN, restart: false });

const served = (): Promise<Record<string, number>> => servedByReplica(replicas, TOKEN);

const send = (proxy: ProxyUnderTest, id: string, dispatcher: Dispatcher = client): Promise<number> => sendThrough(proxy, id, dispatcher);

const countBy = countByLastServer;

const alive = isAlive;

/** PIDs of every process whose command line names this file's work folder (its NGINX masters and workers). */
const processesUnderWork = (): number[] => processesMentioning(work);

describe('the real NGINX under test', () => {
  it("smooth weighted round robin: the order NGINX logs and the replicas' own counts agree (1:2:3)", async () => {
    const before = await served();
    const proxy = await launch(settings(), [1, 2, 3]);
    for (let i = 0; i < 60; i++) expect(await send(proxy, `w${i}`)).toBe(200);
    const records = await proxy.stop();
    const after = await served();
    expect(records.map((r) => r.requestId)).toEqual(Array.from({ length: 60 }, (_, i) => `w${i}`));
    // ngx_http_upstream_get_peer: each peer's current weight grows by its weight, the largest
    // (the first of equals) is picked and loses the total.
    expect(records.slice(0, 6).map((r) => r.servers.join('|'))).toEqual(['s3', 's2', 's1', 's3', 's2', 's3']);
    expect(countBy(records)).toEqual({ s1: 10, s2: 20, s3: 30 });
    expect({ s1: after.s1 - before.s1, s2: after.s2 - before.s2, s3: after.s3 - before.s3 }).toEqual({ s1: 10, s2: 20, s3: 30 });
    for (const r of records) {
      expect(r.attempts).toHaveLength(1);
      expect(r.attempts![0].ok).toBe(true);
      expect(r.attempts![0].endMs).toBeGreaterThanOrEqual(r.attempts![0].startMs);
    }
  });

  it('changes are reloads: weight, add and remove take effect, each on a fresh balancer', async () => {
    const proxy = await launch(settings(), [1, 1]);
    const masterPid = proxy.pid!;
    for (let i = 0; i < 4; i++) await send(proxy, `a${i}`);
    await proxy.change({ kind: 'weight', atMs: 0, server: 's1', weight: 3 });
    for (let i = 0; i < 8; i++) await send(proxy, `b${i}`);
    await proxy.change({ kind: 'add', atMs: 0, server: 's4', weight: 2 }, replicas[3].url);
    for (let i = 0; i < 12; i++) await send(proxy, `c${i}`);
    await proxy.change({ kind: 'remove', atMs: 0, server: 's1' });
    for (let i = 0; i < 6; i++) await send(proxy, `d${i}`);
    await expect(proxy.change({ kind: 'weight', atMs: 0, server: 'nope', weight: 2 })).rejects.toThrow('nginx: nope is not a server');
    await expect(proxy.change({ kind: 'weight', atMs: 0, server: 's2', weight: 2.5 })).rejects.toThrow('s2: weight 2.5 cannot be expressed');
    for (let i = 0; i < 3; i++) await send(proxy, `e${i}`); // still the last good config: s2 1, s4 2
    expect(alive(masterPid)).toBe(true); // the same master throughout
    const records = await proxy.stop();
    const phase = (p: string) => countBy(records.filter((r) => r.requestId.startsWith(p)));
    expect(phase('a')).toEqual({ s1: 2, s2: 2 });
    expect(phase('b')).toEqual({ s1: 6, s2: 2 });
    expect(phase('c')).toEqual({ s1: 6, s2: 2, s4: 4 });
    expect(phase('d')).toEqual({ s2: 2, s4: 4 });
    expect(phase('e')).toEqual({ s2: 1, s4: 2 });
    const members = proxy.members!().map((m) => m.servers.map((s) => `${s.id}${s.routable ? '' : '(out)'}`).join(' '));
    expect(members).toEqual(['s1 s2', 's1 s2 s4', 's1(out) s2 s4', 's2 s4']);
  });

  it('a killed replica: NGINX logs both attempts (s2 refused, then the next server), and max_fails 1 takes s2 out', async () => {
    const s2 = await victim('v');
    const proxy = await launch(settings(), [1, 1, 1], [replicas[0], s2, replicas[2]]);
    await s2.crash();
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) statuses.push(await send(proxy, `k${i}`));
    const records = await proxy.stop();
    expect(statuses).toEqual(Array(9).fill(200));
    const retried = records.filter((r) => r.servers.length > 1);
    expect(retried).toHaveLength(1); // then s2 sits out fail_timeout (10 s)
    expect(retried[0].servers).toEqual(['s2', 's3']);
    expect(retried[0].attempts!.map((a) => a.ok)).toEqual([false, true]);
    expect(records.flatMap((r) => r.servers).filter((s) => s === 's2')).toHaveLength(1);
  });

  it('no retries and every server dead: 502 from NGINX itself, told apart from a server\'s answer', async () => {
    const s2 = await victim('x');
    const proxy = await launch(settings({ nextUpstream: [], maxFails: 0 }), [1], [s2]);
    await s2.crash();
    expect(await send(proxy, 'x0')).toBe(502);
    const [record] = await proxy.stop();
    expect(record).toMatchObject({ requestId: 'x0', servers: ['s2'], status: 502, error: 'connect_failed' });
    expect(record.attempts!.map((a) => a.ok)).toEqual([false]);
  });

  it('hash $remote_addr consistent on Unix sockets: servers named unix:sN.sock, the same client → server map in two runs on different ports', async () => {
    const maps: string[] = [];
    for (const round of ['a', 'b']) {
      const dir = await mkdtemp(join(work, `sock-${round}-`));
      const onSockets = await Promise.all(['s1', 's2', 's3'].map((id) => runtime.start({
        id, host: '127.0.0.1', socketPath: replicaSocketPath(dir, id), serviceTimeMs: { dist: 'constant', value: 1 }, concurrency: 8, seed: id, controlToken: TOKEN, restart: false,
      })));
      const proxy = await launchNginx({
        backends: onSockets.map((r) => ({ id: r.id, url: r.url, weight: 1, socketPath: replicaSocketPath(dir, r.id) })),
        config: undefined as never, workDir: dir, log: () => {},
      }, settings({ balance: { method: 'hash', consistent: true } }));
      started.push(proxy);
      nginxPids.push(proxy.pid!);
      expect(readFileSync(join(dir, 'nginx.conf'), 'utf8')).toContain('server unix:s2.sock weight=1');
      // Twelve clients, each from its own loopback address (127.0.0.1 … 127.0.0.12).
      for (let c = 1; c <= 12; c++) {
        const agent = new Agent({ localAddress: `127.0.0.${c}` });
        const res = await request(`${proxy.url}/`, { headers: { 'x-request-id': `c${c}` }, dispatcher: agent });
        await res.body.dump();
        expect(res.statusCode).toBe(200);
        await agent.close();
      }
      const records = await proxy.stop();
      await Promise.all(onSockets.map((r) => r.stop()));
      maps.push(records.map((r) => `${r.requestId}=${r.servers.join('|')}`).join(' '));
    }
    // Measured on NGINX 1.22.1; a model of ketama over crc32("s1.sock\0") … must give the same.
    expect(maps[0]).toBe('c1=s3 c2=s1 c3=s2 c4=s3 c5=s3 c6=s1 c7=s2 c8=s3 c9=s2 c10=s3 c11=s3 c12=s2');
    expect(maps[1]).toBe(maps[0]);
  });

  it('a replica on a Unix socket that crashes and restarts serves on the same path again (the stale socket file is replaced)', async () => {
    const dir = await mkdtemp(join(work, 'restart-'));
    const path = replicaSocketPath(dir, 's1');
    const r = await runtime.start({ id: 's1', host: '127.0.0.1', socketPath: path, serviceTimeMs: { dist: 'constant', value: 1 }, concurrency: 8, seed: 'r', controlToken: TOKEN, restart: true });
    const viaSocket = async () => {
      const client = new Client('http://localhost', { socketPath: path });
      try {
        const res = await client.request({ method: 'GET', path: '/' });
        await res.body.dump();
        return res.statusCode;
      } finally {
        await client.close();
      }
    };
    expect(await viaSocket()).toBe(200);
    await r.crash();
    await expect(viaSocket()).rejects.toThrow(); // the file is still there; nobody listens
    await r.ready(10_000);
    expect(await viaSocket()).toBe(200);
    expect(r.restarts).toBe(1);
    await r.stop();
  });

  it("start-up failures are errors with NGINX's reason, and leave no process", async () => {
    const saved = process.env.FULCRUM_NGINX;
    process.env.FULCRUM_NGINX = join(work, 'no-such-nginx');
    try {
      await expect(launch(settings())).rejects.toThrow(/cannot start .*no-such-nginx \(spawn .* ENOENT\); install it with npm run test:setup/);
    } finally {
      if (saved === undefined) delete process.env.FULCRUM_NGINX; else process.env.FULCRUM_NGINX = saved;
    }
    await expect(launch(settings({ nextUpstream: ['no_such_condition'] }))).rejects.toThrow(/nginx exited: .*invalid value "no_such_condition"/);
    expect(processesUnderWork()).toEqual([]);
  });

  it('nothing is left running: every NGINX this file started is gone, and stop() is idempotent', async () => {
    for (const p of started) await p.stop();
    expect(nginxPids.length).toBeGreaterThanOrEqual(4);
    for (const pid of nginxPids) expect(alive(pid)).toBe(false);
    expect(processesUnderWork()).toEqual([]);
  });
});
