// The real NGINX 1.22 in front of real replicas, started by the launcher the live runner
// uses: what it routes (checked against the replicas' own counts), what its access log says
// about every attempt, membership changes through reloads, and no process left behind.
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { countOf, expectWeightAddRemove, isAlive, liveProxyKit } from './proxy-kit.ts';
import { Agent, Client, request } from 'undici';
import type { NginxSettings } from '../../experiments/proxies/nginx-settings.ts';
import { launchNginx } from '../../live/runner/proxies/nginx/launcher.ts';
import { replicaSocketPath } from '../../live/runner/proxies/types.ts';

const kit = liveProxyKit('nginx', ['-v'], launchNginx);
const { launch, send, served, victim, processesUnderWork } = kit;

const settings = (s: Partial<NginxSettings> = {}): NginxSettings => ({
  balance: { method: 'round-robin' }, nextUpstream: ['error', 'timeout'], nextUpstreamTries: 0, nextUpstreamTimeoutMs: 0,
  maxFails: 1, failTimeoutMs: 10_000, timeouts: { connectMs: 500, readMs: 10_000, sendMs: 10_000 }, workerProcesses: 1, zone: false, ...s,
});

describe('the real NGINX under test', () => {
  it("smooth weighted round robin: the order NGINX logs and the replicas' own counts agree (1:2:3)", async () => {
    const before = await served();
    const proxy = await launch(settings(), { weights: [1, 2, 3] });
    expect(await kit.sendAll(proxy, 'w', 60)).toEqual(Array(60).fill(200));
    const records = await proxy.stop();
    // ngx_http_upstream_get_peer: each peer's current weight grows by its weight, the largest
    // (the first of equals) is picked and loses the total.
    expect(records.slice(0, 6).map((r) => r.servers.join('|'))).toEqual(['s3', 's2', 's1', 's3', 's2', 's3']);
    await kit.expectCounted(records, 'w', { s1: 10, s2: 20, s3: 30 }, before);
  });

  it('changes are reloads: weight, add and remove take effect, each on a fresh balancer', async () => {
    const proxy = await launch(settings(), { weights: [1, 1] });
    const masterPid = proxy.pid!;
    await kit.weightAddRemove(proxy);
    await expect(proxy.change({ kind: 'weight', atMs: 0, server: 'nope', weight: 2 })).rejects.toThrow('nginx: nope is not a server');
    await expect(proxy.change({ kind: 'weight', atMs: 0, server: 's2', weight: 2.5 })).rejects.toThrow('s2: weight 2.5 cannot be expressed');
    await kit.sendAll(proxy, 'e', 3); // still the last good config: s2 1, s4 2
    expect(isAlive(masterPid)).toBe(true); // the same master throughout
    const records = await proxy.stop();
    expectWeightAddRemove(records, proxy);
    expect(countOf(records, 'e')).toEqual({ s2: 1, s4: 2 });
  });

  it('a killed replica: NGINX logs both attempts (s2 refused, then the next server), and max_fails 1 takes s2 out', async () => {
    const proxy = await kit.launchWithDeadS2(settings(), 'v');
    const statuses = await kit.sendAll(proxy, 'k', 9);
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
    const proxy = await launch(settings({ nextUpstream: [], maxFails: 0 }), { backends: [s2] });
    await s2.crash();
    expect(await send(proxy, 'x0')).toBe(502);
    const [record] = await proxy.stop();
    expect(record).toMatchObject({ requestId: 'x0', servers: ['s2'], status: 502, error: 'connect_failed' });
    expect(record.attempts!.map((a) => a.ok)).toEqual([false]);
  });

  it('hash $remote_addr consistent on Unix sockets: servers named unix:sN.sock, the same client → server map in two runs on different ports', async () => {
    const maps: string[] = [];
    for (const round of ['a', 'b']) {
      const dir = await mkdtemp(join(kit.work, `sock-${round}-`));
      const onSockets = await Promise.all(['s1', 's2', 's3'].map((id) => kit.startReplica(id, id, { socketPath: replicaSocketPath(dir, id) })));
      const proxy = await launch(settings({ balance: { method: 'hash', consistent: true } }), {
        backends: onSockets.map((r) => ({ id: r.id, url: r.url, socketPath: replicaSocketPath(dir, r.id) })), workDir: dir,
      });
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
    const dir = await mkdtemp(join(kit.work, 'restart-'));
    const path = replicaSocketPath(dir, 's1');
    const r = await kit.startReplica('s1', 'r', { socketPath: path, restart: true });
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
    try {
      expect(await viaSocket()).toBe(200);
      await r.crash();
      await expect(viaSocket()).rejects.toThrow(); // the file is still there; nobody listens
      await r.ready(10_000);
      expect(await viaSocket()).toBe(200);
      expect(r.restarts).toBe(1);
    } finally {
      await r.stop(); // a failure here must not leave a replica under the work folder for the later tests
    }
  });

  it("start-up failures are errors with NGINX's reason, and leave no process", async () => {
    await kit.withMissingBinary(async () => {
      await expect(launch(settings())).rejects.toThrow(/cannot start .*no-such-nginx \(spawn .* ENOENT\); install it with npm run test:setup/);
    });
    await expect(launch(settings({ nextUpstream: ['no_such_condition'] }))).rejects.toThrow(/nginx exited: .*invalid value "no_such_condition"/);
    expect(processesUnderWork()).toEqual([]);
  });

  it('nothing is left running: every NGINX this file started is gone, and stop() is idempotent', async () => {
    await kit.expectNothingLeft(4);
  });
});
