// The real Caddy 2.6 in front of real replicas, started by the launcher the live runner uses:
// what it routes (checked against the replicas' own counts), ip_hash on named upstreams,
// what its log says about each attempt, membership changes as admin API config loads, and
// no process left behind.
import { describe, expect, it } from 'vitest';
import { liveProxyKit, membersText, orderOf } from './proxy-kit.ts';
import { Agent } from 'undici';
import { rendezvous } from './caddy-rendezvous.ts';
import type { CaddySettings } from '../../experiments/proxies/caddy-settings.ts';
import { launchCaddy } from '../../live/runner/proxies/caddy/launcher.ts';

const kit = liveProxyKit('caddy', ['version'], launchCaddy);
const { launch, send, served, victim, processesUnderWork } = kit;

const settings = (s: Partial<CaddySettings> = {}): CaddySettings => ({
  selection: { policy: 'round_robin' }, tryDurationMs: 0, tryIntervalMs: 250, timeouts: { dialMs: 500 }, ...s,
});

describe('the real Caddy under test', () => {
  it('round_robin: the order Caddy logs and the replicas\' own counts agree; its Prometheus metrics answer', async () => {
    const before = await served();
    const proxy = await launch(settings());
    expect(processesUnderWork()).toEqual([kit.pids.at(-1)]);
    expect(proxy.pid).toBe(kit.pids.at(-1));
    expect(await kit.sendAll(proxy, 'r', 30)).toEqual(Array(30).fill(200));
    const metrics = await proxy.metrics!();
    // Caddy 2.6's admin /metrics: the reverse proxy's upstream gauge (metrics.go) beside Go's own.
    expect(metrics).toMatch(/^caddy_reverse_proxy_upstreams_healthy\{upstream="127\.0\.0\.1:\d+"\} 1$/m);
    const records = await proxy.stop();
    // RoundRobinSelection.Select: the counter is incremented before use, so the second upstream goes first.
    expect(orderOf(records, 'r').split(' ').slice(0, 4)).toEqual(['s2', 's3', 's1', 's2']);
    await kit.expectCounted(records, 'r', { s1: 10, s2: 10, s3: 10 }, before);
    expect(processesUnderWork()).toEqual([]);
  });

  it('ip_hash on named upstreams: every client lands where fnv32a(client IP + "{http.vars.sN}") is highest', async () => {
    const proxy = await launch(settings({ selection: { policy: 'ip_hash' } }));
    const expected: string[] = [];
    for (let c = 1; c <= 24; c++) {
      const ip = `127.0.${Math.floor(c / 7)}.${10 + c}`;
      const from = new Agent({ localAddress: ip });
      expect(await send(proxy, `h${c}`, from)).toBe(200);
      await from.close();
      expected.push(rendezvous(ip, ['s1', 's2', 's3']));
    }
    const records = await proxy.stop();
    expect(orderOf(records, 'h')).toBe(expected.join(' '));
    expect(new Set(expected).size).toBe(3); // the clients cover every server: the check can fail
  });

  it('admin API loads: add and remove take effect, the round-robin counter starts again, weights are refused', async () => {
    const proxy = await launch(settings(), { weights: [1, 1] });
    for (let i = 0; i < 3; i++) await send(proxy, `a${i}`);
    await proxy.change({ kind: 'add', atMs: 0, server: 's4' }, kit.replicas[3].url);
    for (let i = 0; i < 6; i++) await send(proxy, `b${i}`);
    await proxy.change({ kind: 'remove', atMs: 0, server: 's1' });
    for (let i = 0; i < 4; i++) await send(proxy, `c${i}`);
    await expect(proxy.change({ kind: 'weight', atMs: 0, server: 's2', weight: 2 })).rejects.toThrow('Caddy 2.6 has no upstream weights');
    const records = await proxy.stop();
    expect(orderOf(records, 'a')).toBe('s2 s1 s2');
    // A load provisions a new RoundRobinSelection: its counter is 0 again, whatever came before.
    expect(orderOf(records, 'b')).toBe('s2 s4 s1 s2 s4 s1');
    expect(orderOf(records, 'c')).toBe('s4 s2 s4 s2');
    expect(membersText(proxy)).toEqual(['s1 s2', 's1 s2 s4', 's2 s4']);
  });

  it('a config load forgets passive failures: the old handler\'s context ends, and its forgetters uncount at once', async () => {
    const proxy = await kit.launchWithDeadS2(settings({ passive: { failDurationMs: 30_000, maxFails: 1, unhealthyStatus: [] } }), 'p');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push(await send(proxy, `p${i}`));
    await proxy.change({ kind: 'add', atMs: 0, server: 's4' }, kit.replicas[3].url);
    for (let i = 0; i < 4; i++) statuses.push(await send(proxy, `q${i}`));
    const records = await proxy.stop();
    // s2's refused dial counts one failure (max_fails 1): round robin skips it from then on.
    expect(orderOf(records, 'p')).toBe('s2 s3 s1 s3');
    // The count lives in the global host pool (hosts.go Host.fails), but countFailure's goroutine
    // uncounts when the handler's context is done (healthchecks.go): after the load s2 is
    // healthy again, and the new round-robin counter starts with it.
    expect(orderOf(records, 'q')).toBe('s2 s3 s4 s1');
    expect(statuses).toEqual([502, 200, 200, 200, 502, 200, 200, 200]);
  });

  it('active health: a killed replica is marked down by Caddy\'s checker, and the timeline says so', async () => {
    const proxy = await kit.launchWithDeadS2(settings({ active: { uri: '/heartbeat', intervalMs: 100, timeoutMs: 100 } }), 'a');
    // Until the checker marks s2 down its turns answer 502 (no retries); then only s1 and s3 serve.
    let ok = 0;
    const deadline = Date.now() + 5_000;
    for (let i = 0; ok < 6; i++) {
      if (Date.now() > deadline) throw new Error('Caddy never stopped sending to the dead s2');
      ok = (await send(proxy, `a${i}`)) === 200 ? ok + 1 : 0;
    }
    await proxy.stop();
    const members = proxy.members!();
    expect(members[0].servers.every((m) => m.routable)).toBe(true);
    expect(members.at(-1)!.servers).toEqual([{ id: 's1', routable: true }, { id: 's2', routable: false }, { id: 's3', routable: true }]);
  });

  it('a killed replica with lb_try_duration: the refused attempt on s2 and the retry elsewhere are both in the record', async () => {
    const proxy = await kit.launchWithDeadS2(settings({ tryDurationMs: 2_000, tryIntervalMs: 50 }), 'k');
    const statuses = await kit.sendAll(proxy, 'k', 6);
    const records = await proxy.stop();
    expect(statuses).toEqual(Array(6).fill(200));
    const retried = records.filter((r) => r.servers.length > 1);
    expect(retried.length).toBeGreaterThan(0);
    for (const r of retried) {
      expect(r.servers[0]).toBe('s2');
      expect(r.attempts!.map((a) => a.ok)).toEqual([false, true]);
      // lb_try_interval: Caddy waits 50 ms before the next try.
      expect(r.attempts![1].startMs - r.attempts![0].endMs).toBeGreaterThanOrEqual(45);
    }
  });

  it('no retries on a dead server: Caddy\'s own 502, recorded as a failed connection', async () => {
    const s2 = await victim('d');
    const proxy = await launch(settings(), { backends: [s2] });
    await s2.crash();
    expect(await send(proxy, 'd0')).toBe(502);
    const [record] = await proxy.stop();
    expect(record).toMatchObject({ requestId: 'd0', servers: ['s2'], status: 502, error: 'connect_failed' });
    expect(record.attempts![0].ok).toBe(false);
  });

  it('start-up failures are errors with the reason, and leave no process', async () => {
    await kit.withMissingBinary(async () => {
      await expect(launch(settings())).rejects.toThrow(/cannot start .*no-such-caddy/);
    });
    await expect(launch(settings({ active: { uri: '%zz', intervalMs: 1_000, timeoutMs: 500 } }))).rejects.toThrow(/caddy exited before it was ready/);
    expect(processesUnderWork()).toEqual([]); // the earlier tests stopped theirs; the failed starts left none
  });

  it('nothing is left running: every Caddy this file started is gone, and stop() is idempotent', async () => {
    await kit.expectNothingLeft(7);
  });
});
