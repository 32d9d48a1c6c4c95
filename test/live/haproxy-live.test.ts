// The real HAProxy 2.6 in front of three real replicas, started by the launcher the live
// runner uses: what it routes (checked against the replicas' own counts), what its access
// log says about retries and redispatches, membership changes through its runtime API, and
// no process left behind.
import { describe, expect, it } from 'vitest';
import { countByLastServer, expectWeightAddRemove, liveProxyKit } from './proxy-kit.ts';
import { request } from 'undici';
import type { HaproxySettings } from '../../experiments/proxies/haproxy-settings.ts';
import { haproxyLauncher, launchHaproxy } from '../../live/runner/proxies/haproxy/launcher.ts';
import { loadExperiment } from '../../experiments/schema.ts';

const kit = liveProxyKit('haproxy', ['-v'], launchHaproxy);
const { launch, send, served, victim, processesUnderWork } = kit;

const settings = (s: Partial<HaproxySettings> = {}): HaproxySettings => ({
  balance: { algorithm: 'roundrobin' }, retries: 0, retryOn: ['conn-failure'],
  timeouts: { connectMs: 500, serverMs: 10_000, clientMs: 10_000 }, ...s,
});

describe('the real HAProxy under test', () => {
  it('weighted round robin: the order HAProxy logs and the replicas\' own counts agree (1:2:3)', async () => {
    const before = await served();
    const proxy = await launch(settings(), { weights: [1, 2, 3] });
    expect(processesUnderWork()).toEqual([kit.pids.at(-1)]); // the finder sees a running HAProxy
    expect(proxy.pid).toBe(kit.pids.at(-1)); // npm run calibrate reads its CPU time
    expect(await kit.sendAll(proxy, 'w', 60)).toEqual(Array(60).fill(200));
    // HAProxy's own Prometheus exporter (the runner's --metrics), on a listener of its own.
    const metrics = await proxy.metrics!();
    expect(metrics).toMatch(/^haproxy_server_http_responses_total\{proxy="servers",server="s3",code="2xx"\} 30$/m);
    const records = await proxy.stop();
    // HAProxy's own first cycle (haproxy-facts.md 6): the heaviest server first.
    expect(records.slice(0, 6).map((r) => r.servers.join('|'))).toEqual(['s3', 's2', 's3', 's1', 's3', 's2']);
    await kit.expectCounted(records, 'w', { s1: 10, s2: 20, s3: 30 }, before);
  });

  it('runtime API: weight, add and remove take effect; HAProxy\'s errors surface with its text', async () => {
    const proxy = await launch(settings(), { weights: [1, 1] });
    await kit.weightAddRemove(proxy);
    await expect(proxy.change({ kind: 'weight', atMs: 0, server: 'nope', weight: 2 })).rejects.toThrow(/haproxy: set server servers\/nope weight 2: .*(No such|not found)/i);
    await expect(proxy.change({ kind: 'weight', atMs: 0, server: 's2', weight: 2.5 })).rejects.toThrow('s2: weight 2.5 cannot be expressed');
    // Membership as the timeline sees it: s4 joined, s1 left maintenance-first, then the backend.
    expectWeightAddRemove(await proxy.stop(), proxy);
  });

  it('a killed replica, retries 2, option redispatch: one immediate retry, logged `+1`, served elsewhere', async () => {
    const proxy = await kit.launchWithDeadS2(settings({ retries: 2, redispatch: -1 }), 'v');
    const statuses = await kit.sendAll(proxy, 'k', 9);
    const records = await proxy.stop();
    expect(statuses).toEqual(Array(9).fill(200));
    const retried = records.filter((r) => r.servers.length > 1);
    // Round robin s1, s2→s3, s1, s2→s3 …: the redispatch takes s2's turn and s3's (haproxy-facts.md 2).
    expect(retried.map((r) => r.requestId)).toEqual(['k1', 'k3', 'k5', 'k7']);
    expect(countByLastServer(records)).toEqual({ s1: 5, s3: 4 });
    for (const r of retried) {
      expect(r.servers[0]).toBe('s2'); // the only server whose redispatch counter moved
      expect(r.servers).toHaveLength(2);
      expect(r.attempts!.map((a) => a.ok)).toEqual([false, true]);
    }
  });

  it('retries 2 without redispatch on a dead server: two turn-arounds of timeout connect, then 503 after 3 tries', async () => {
    const proxy = await kit.launchWithDeadS2(settings({ retries: 2, timeouts: { connectMs: 150, serverMs: 10_000, clientMs: 10_000 } }), 'w');
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
    }), { backends: [kit.replicas[0], s2, kit.replicas[2]] });
    const control = await request(`${s2.url}/__control`, {
      method: 'PUT', headers: { authorization: `Bearer ${kit.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ mode: 'error', status: 500 }),
    });
    await control.body.dump();
    const statuses = await kit.sendAll(proxy, 'o', 12);
    const records = await proxy.stop();
    await s2.stop();
    // s2 answered o1 and o4 with 500; then HAProxy marked it down and only s1/s3 served.
    expect(records.map((r) => r.servers.join('|')).join(' ')).toBe('s1 s2 s3 s1 s2 s3 s1 s3 s1 s3 s1 s3');
    expect(statuses.filter((s) => s === 500)).toHaveLength(2);
    const last = proxy.members!().at(-1)!;
    expect(last.servers).toEqual([{ id: 's1', routable: true }, { id: 's2', routable: false }, { id: 's3', routable: true }]);
  });

  it('start-up failures are errors with the reason, and leave no process', async () => {
    await kit.withMissingBinary(async () => {
      await expect(launch(settings())).rejects.toThrow(/cannot start .*no-such-haproxy \(spawn .* ENOENT\); install it with npm run test:setup/);
    });
    // HAProxy refuses the config (an unknown retry-on keyword): its own message comes back.
    await expect(launch(settings({ retryOn: ['no-such-event'] }))).rejects.toThrow(/haproxy exited before it was ready: .*no-such-event/);
    expect(processesUnderWork()).toEqual([]); // the earlier tests stopped theirs; the failed starts left none
  });

  it('the registry\'s launcher announces changes HAProxy will refuse, and the run shows HAProxy refusing them (A-4 ip-hash: add s4 under map-based source)', async () => {
    const plan = await loadExperiment('experiments/a4.json');
    const run = plan.runs.find((r) => r.variant?.name === 'ip-hash')!;
    const log: string[] = [];
    const proxy = await kit.start(haproxyLauncher, { config: run.config, log });
    expect(log).toContain('[haproxy] will fail: changes[0].add: "s4": HAProxy\'s static source with hash-type map-based cannot add a server at run time; use roundrobin, or hash-type consistent');
    await expect(proxy.change(run.config.changes[0], kit.replicas[3].url)).rejects.toThrow('Backend must use a dynamic load balancing to support dynamic servers');
    await proxy.stop();
  });

  it('nothing is left running: every HAProxy this file started is gone, and stop() is idempotent', async () => {
    await kit.expectNothingLeft(4);
  });
});
