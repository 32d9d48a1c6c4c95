// Measures on the real NGINX binary what a reload (SIGHUP) and several workers do to its
// balancer state, with and without `zone`: the facts the NGINX models follow
// (/work/briefs/nginx-facts.md). Prints one line per measurement.
//   npx tsx scripts/nginx-facts.ts
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import type { NginxSettings } from '../experiments/proxies/nginx-settings.ts';
import { launchNginx } from '../live/runner/proxies/nginx/launcher.ts';
import type { AccessRecord, ProxyUnderTest } from '../live/runner/proxies/types.ts';
import { ProcessRuntime } from '../live/runner/runtime/process.ts';

const runtime = new ProcessRuntime();
const work = await mkdtemp(join(tmpdir(), 'fulcrum-nginx-facts-'));
const replica = (id: string, ms = 1) => runtime.start({ id, host: '127.0.0.1', serviceTimeMs: { dist: 'constant', value: ms }, concurrency: 64, seed: id, controlToken: 't', restart: false });
const replicas = await Promise.all(['s1', 's2', 's3'].map((id) => replica(id)));
const settings = (s: Partial<NginxSettings>): NginxSettings => ({
  balance: { method: 'round-robin' }, nextUpstream: ['error', 'timeout'], nextUpstreamTries: 0, nextUpstreamTimeoutMs: 0,
  maxFails: 1, failTimeoutMs: 10_000, timeouts: { connectMs: 500, readMs: 10_000, sendMs: 10_000 }, workerProcesses: 1, zone: false, ...s,
});
let lastWorkDir = '';
const launch = async (s: NginxSettings, backends = replicas, weights = [1, 2, 3]) => launchNginx({
  backends: backends.map((r, i) => ({ id: r.id, url: r.url, weight: weights[i] })), config: undefined as never, workDir: (lastWorkDir = await mkdtemp(join(work, 'run-'))), log: () => {},
}, s);
/** Which worker (pid) served each request of the last run, from its access log: `id@pid`. */
const workers = async () => (await readFile(join(lastWorkDir, 'access.log'), 'utf8')).trim().split('\n').map((l) => l.split('\t')).map((f) => `${f[9]}@${f[4]}`).join(' ');
/** `fresh`: a new connection per request (the kernel picks the worker); else one kept-alive connection. */
async function send(proxy: ProxyUnderTest, id: string, fresh: boolean, agent: Agent): Promise<void> {
  const res = await request(`${proxy.url}/`, { headers: { 'x-request-id': id }, reset: fresh, dispatcher: agent });
  await res.body.dump();
}
const order = (records: AccessRecord[], prefix: string) => records.filter((r) => r.requestId.startsWith(prefix)).map((r) => r.servers.join('>')).join(' ');
const counts = (records: AccessRecord[]) => {
  const out: Record<string, number> = {};
  for (const r of records) out[r.servers.at(-1) ?? '-'] = (out[r.servers.at(-1) ?? '-'] ?? 0) + 1;
  return JSON.stringify(out);
};
const reload = (p: ProxyUnderTest) => p.change({ kind: 'weight', atMs: 0, server: 's1', weight: 1 }); // same config, new generation

for (const zone of [false, true]) {
  // 1. round-robin position across a reload (weights 1:2:3, one worker).
  {
    const agent = new Agent({ connections: 1 });
    const p = await launch(settings({ zone }));
    for (let i = 0; i < 2; i++) await send(p, `a${i}`, true, agent);
    await reload(p);
    for (let i = 0; i < 6; i++) await send(p, `b${i}`, true, agent);
    const r = await p.stop();
    console.log(`zone=${zone} rr 1:2:3, 2 requests, reload, 6 requests: before [${order(r, 'a')}] after [${order(r, 'b')}]`);
    await agent.close();
  }
  // 2. max_fails state across a reload: s2 dead, max_fails 1, fail_timeout 10 s (equal weights).
  {
    const agent = new Agent({ connections: 1 });
    const dead = await replica('s2');
    const p = await launch(settings({ zone }), [replicas[0], dead, replicas[2]], [1, 1, 1]);
    await dead.crash();
    for (let i = 0; i < 4; i++) await send(p, `a${i}`, true, agent);
    await reload(p);
    for (let i = 0; i < 4; i++) await send(p, `b${i}`, true, agent);
    const r = await p.stop();
    console.log(`zone=${zone} s2 dead, max_fails 1: before reload [${order(r, 'a')}] after [${order(r, 'b')}]; ${await workers()}`);
    await agent.close();
  }
  // 3. two workers, 1:2:3, 61 requests, each on a new connection (the kernel picks the worker).
  {
    const agent = new Agent({ connections: 1 });
    const p = await launch(settings({ zone, workerProcesses: 2 }), replicas, [1, 2, 3]);
    for (let i = 0; i < 61; i++) await send(p, `c${i}`, true, agent);
    const r = await p.stop();
    const pids = (await workers()).split(' ').map((x) => x.split('@')[1]);
    const perWorker = [...new Set(pids)].map((pid) => `${pid}: ${counts(r.filter((_, i) => pids[i] === pid))}`).join('; ');
    console.log(`zone=${zone} 2 workers, rr 1:2:3, 61 requests on new connections: ${counts(r)}; per worker ${perWorker}`);
    await agent.close();
  }
}
await runtime.closeAll();
await rm(work, { recursive: true, force: true });
