// Backend discovery by DNS against a real DNS server (a UDP stub on 127.0.0.1) and real
// replicas on 127.0.0.1, .2 and .3, all on one port, as a headless Service's pods would
// be: the pool follows the answer, a vanished address drains, a DNS outage keeps the last
// known set; and the Kubernetes probes /healthz and /readyz.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningProxy } from '../../live/proxy/start.ts';
import type { SpawnedReplica } from '../../server/spawn.ts';
import { type DnsStub, startDnsStub } from './dns-stub.ts';
import { admin, proxy, replicas, send, waitFor } from './helpers.ts';

const FAST = { dist: 'constant', value: 10 } as const;
/** 10 ms × 300: long enough to still be in flight while DNS changes. */
const SLOW = { mode: 'slow', factor: 300 } as const;
const HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];

let dns: DnsStub;
let rs: SpawnedReplica[];
let port: number;
const id = (n: number) => `127.0.0.${n}_${port}`;

beforeAll(async () => {
  dns = await startDnsStub();
  // One port chosen for the first, reused on the other loopback addresses.
  const [first] = await replicas(1, () => ({ id: 'r1', host: HOSTS[0], serviceTime: FAST }));
  port = first.port;
  rs = [first, ...await replicas(2, (i) => ({ id: `r${i + 2}`, host: HOSTS[i + 1], port, seed: i + 2, serviceTime: FAST }))];
});
afterAll(async () => { await dns.close(); });

function discovering(name: string, o: { intervalMs?: number; timeoutMs?: number } = {}): Promise<RunningProxy> {
  return proxy({
    backends: [], policy: 'round-robin',
    discovery: { targets: [{ host: name, port }], intervalMs: o.intervalMs ?? 100, timeoutMs: o.timeoutMs, dnsServer: dns.server },
  });
}

const lifecycleOf = (p: RunningProxy, backend: string) => p.balancer.status(p.driver.now()).find((s) => s.id === backend);
const routable = (p: RunningProxy, backend: string) => lifecycleOf(p, backend)?.routable === true;

/** Which replica served each of `n` parallel requests. */
async function servedBy(p: RunningProxy, n: number, path = '/discovery'): Promise<string[]> {
  const replies = await Promise.all(Array.from({ length: n }, (_, i) => send(`${p.url}${path}/${i}`)));
  expect(replies.map((r) => r.status)).toEqual(Array(n).fill(200));
  return replies.map((r) => JSON.parse(r.text).server as string);
}

async function listed(p: RunningProxy): Promise<string[]> {
  const r = await admin(p, 'GET', '/backends');
  return (r.json.backends as Array<{ id: string }>).map((b) => b.id);
}

/** The proxy's own count of lookups with this result for `target`, from /metrics. */
async function resolutions(p: RunningProxy, target: string, result: string): Promise<number> {
  const text = (await admin(p, 'GET', '/metrics')).text;
  const m = new RegExp(`^fulcrum_discovery_resolutions_total\\{target="${target}",result="${result}"\\} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

function eventsOf(p: RunningProxy, backend: string): string[] {
  return p.events.list({ backend }).map((e) => e.kind).filter((k) => k !== 'health');
}

describe('DNS discovery', () => {
  it('starts with what the first answer lists, and adds an address DNS starts listing', async () => {
    dns.set('app.test', ['127.0.0.2', '127.0.0.1']);
    const p = await discovering('app.test');
    // The first round finished before startProxy returned: no waiting.
    expect(p.balancer.ids()).toEqual([id(1), id(2)]);
    expect((await admin(p, 'GET', '/readyz', undefined, { token: null })).status).toBe(200);
    expect(new Set(await servedBy(p, 10))).toEqual(new Set(['r1', 'r2']));

    dns.set('app.test', ['127.0.0.1', '127.0.0.2', '127.0.0.3']);
    await waitFor('127.0.0.3 discovered and healthy', () => routable(p, id(3)), 5_000);
    const served = await servedBy(p, 30);
    expect(new Set(served)).toEqual(new Set(['r1', 'r2', 'r3']));
    expect(eventsOf(p, id(3))).toEqual(['discovered']);

    const backends = (await admin(p, 'GET', '/backends')).json.backends as Array<{ id: string; url: string }>;
    expect(backends.map((b) => [b.id, b.url])).toEqual(HOSTS.map((h, i) => [id(i + 1), `http://${h}:${port}`]));
    const metrics = (await admin(p, 'GET', '/metrics')).text;
    expect(metrics).toContain(`fulcrum_discovered_backends{target="app.test:${port}"} 3`);
    expect(await resolutions(p, `app.test:${port}`, 'ok')).toBeGreaterThanOrEqual(2);
    expect(await resolutions(p, `app.test:${port}`, 'error')).toBe(0);
  });

  it('drains an address DNS stops listing, and re-adds one that comes back during its drain once the drain ends', async () => {
    dns.set('drain.test', HOSTS);
    const p = await discovering('drain.test');
    expect(p.balancer.ids()).toEqual([id(1), id(2), id(3)]);
    await rs[1].setFault(SLOW);
    try {
      // Round-robin over three: two of six requests are on .2 when it vanishes from DNS.
      let inFlight = Array.from({ length: 6 }, (_, i) => send(`${p.url}/drain/${i}`));
      await waitFor('two requests in flight on .2', () => lifecycleOf(p, id(2))?.inFlight === 2, 5_000);
      dns.set('drain.test', ['127.0.0.1', '127.0.0.3']);
      await waitFor('.2 draining', () => lifecycleOf(p, id(2))?.lifecycle === 'draining', 5_000);
      expect(await servedBy(p, 6, '/during')).not.toContain('r2');
      let first = await Promise.all(inFlight);
      expect(first.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
      expect(first.filter((r) => JSON.parse(r.text).server === 'r2')).toHaveLength(2);
      await waitFor('.2 gone from /backends', async () => !(await listed(p)).includes(id(2)), 5_000);
      expect(await listed(p)).toEqual([id(1), id(3)]);
      expect(eventsOf(p, id(2))).toEqual(['discovered', 'undiscovered', 'draining', 'removed']);

      // Back in DNS: added again.
      dns.set('drain.test', HOSTS);
      await waitFor('.2 back', () => routable(p, id(2)), 5_000);

      // Vanishes with requests in flight and returns while they are still running: it stays
      // draining (its id is taken until then), and is added back as soon as the drain ends.
      inFlight = Array.from({ length: 6 }, (_, i) => send(`${p.url}/again/${i}`));
      await waitFor('two requests in flight on .2 again', () => lifecycleOf(p, id(2))?.inFlight === 2, 5_000);
      dns.set('drain.test', ['127.0.0.1', '127.0.0.3']);
      await waitFor('.2 draining again', () => lifecycleOf(p, id(2))?.lifecycle === 'draining', 5_000);
      const queriesBefore = dns.queries.get('drain.test/A') ?? 0;
      dns.set('drain.test', HOSTS);
      await waitFor('two more rounds', () => (dns.queries.get('drain.test/A') ?? 0) >= queriesBefore + 2, 5_000);
      expect(lifecycleOf(p, id(2))?.lifecycle).toBe('draining');
      first = await Promise.all(inFlight);
      expect(first.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
      await waitFor('.2 active again', () => routable(p, id(2)), 5_000);
      expect(eventsOf(p, id(2)).slice(-5)).toEqual(['discovered', 'undiscovered', 'draining', 'removed', 'discovered']);
    } finally {
      await rs[1].setFault({ mode: 'normal' });
    }
    expect(new Set(await servedBy(p, 9, '/after'))).toEqual(new Set(['r1', 'r2', 'r3']));
  });

  it('keeps the last known set while DNS fails: no answer, SERVFAIL, NXDOMAIN, an empty answer', async () => {
    dns.set('flaky.test', ['127.0.0.1', '127.0.0.2']);
    const p = await discovering('flaky.test', { intervalMs: 50, timeoutMs: 300 });
    const target = `flaky.test:${port}`;
    const failures: Array<[string, () => void, string]> = [
      ['no answer', () => { dns.mode = 'silent'; }, 'error'],
      ['SERVFAIL', () => { dns.mode = 'servfail'; }, 'error'],
      ['NXDOMAIN', () => { dns.delete('flaky.test'); }, 'error'],
      ['empty answer', () => { dns.set('flaky.test', []); }, 'empty'],
    ];
    try {
      for (const [what, fail, result] of failures) {
        const before = await resolutions(p, target, result);
        const since = p.events.list().at(-1)?.seq ?? -1;
        const eventsSince = () => p.events.list({ sinceSeq: since });
        fail();
        await waitFor(`two failed rounds (${what})`, async () => (await resolutions(p, target, result)) >= before + 2, 5_000);
        expect(p.balancer.ids(), what).toEqual([id(1), id(2)]);
        expect(new Set(await servedBy(p, 6, '/flaky')), what).toEqual(new Set(['r1', 'r2']));
        // An outage is logged once, not once per round.
        const newFailures = eventsSince().filter((e) => e.kind === 'discovery-failed');
        expect(newFailures.length, what).toBe(1);
        expect(newFailures[0]).toMatchObject({ target, keptAddresses: 2 });
        dns.mode = 'answer';
        dns.set('flaky.test', ['127.0.0.1', '127.0.0.2']);
        await waitFor(`recovered after ${what}`, () => eventsSince().some((e) => e.kind === 'discovery-recovered'), 5_000);
      }
    } finally {
      dns.mode = 'answer';
    }
    const errors = p.events.list().filter((e) => e.kind === 'discovery-failed').map((e) => 'error' in e && e.error);
    expect(errors).toEqual([
      'no answer within 300 ms', 'ESERVFAIL flaky.test', 'ENOTFOUND flaky.test', 'empty answer',
    ]);
  });

  it('readiness: 503 with no backends, 200 once DNS lists one, 503 as soon as close begins; liveness 200 throughout, no token', async () => {
    dns.delete('later.test');
    const p = await discovering('later.test');
    expect(p.balancer.ids()).toEqual([]);
    const probe = (path: string) => admin(p, 'GET', path, undefined, { token: null });
    expect(await probe('/healthz')).toMatchObject({ status: 200, json: { status: 'ok' } });
    expect(await probe('/readyz')).toMatchObject({ status: 503, json: { status: 'not_ready', reason: 'no backends' } });
    expect((await send(`${p.url}/nobody`)).status).toBe(503);
    expect((await admin(p, 'GET', '/backends', undefined, { token: null })).status).toBe(401); // the rest keeps its token
    expect((await admin(p, 'POST', '/readyz', {}, { token: null })).status).toBe(401);

    dns.set('later.test', ['127.0.0.1']);
    await waitFor('ready', async () => (await probe('/readyz')).status === 200, 5_000);
    expect((await probe('/readyz')).json).toEqual({ status: 'ready' });

    // Admin-down on the only backend: nothing can take traffic.
    await admin(p, 'PUT', `/backends/${id(1)}/down`, {});
    expect(await probe('/readyz')).toMatchObject({ status: 503, json: { reason: 'no backend can take traffic (1 down)' } });
    await admin(p, 'PUT', `/backends/${id(1)}/up`, {});
    expect((await probe('/readyz')).status).toBe(200);

    await rs[0].setFault(SLOW);
    try {
      const inFlight = send(`${p.url}/closing`);
      await waitFor('a request in flight', () => lifecycleOf(p, id(1))?.inFlight === 1, 5_000);
      const closing = p.close(10_000);
      expect(await probe('/readyz')).toMatchObject({ status: 503, json: { reason: 'shutting down' } });
      expect((await probe('/healthz')).status).toBe(200);
      expect((await inFlight).status).toBe(200);
      await closing;
    } finally {
      await rs[0].setFault({ mode: 'normal' });
    }
  });

  it('turns an AAAA answer into http://[ADDR]:PORT', async () => {
    const [v6] = await replicas(1, () => ({ id: 'v6', host: '::1', serviceTime: FAST }));
    dns.set('v6.test', ['::1']);
    const p = await proxy({ backends: [], discovery: { targets: [{ host: 'v6.test', port: v6.port }], intervalMs: 100, dnsServer: dns.server } });
    expect(p.balancer.ids()).toEqual([`--1_${v6.port}`]);
    expect((await admin(p, 'GET', `/backends/--1_${v6.port}`)).json.url).toBe(`http://[::1]:${v6.port}`);
    expect(await servedBy(p, 2)).toEqual(['v6', 'v6']);
  });
});

describe('discovery with the system resolver', () => {
  it('resolves through getaddrinfo (/etc/hosts: localhost), next to a --backend', async () => {
    const p = await proxy({
      backends: [{ url: rs[1].url }], policy: 'round-robin',
      discovery: { targets: [{ host: 'localhost', port }], intervalMs: 60_000 },
    });
    expect(p.balancer.ids()).toEqual(expect.arrayContaining(['s1', id(1)])); // (and --1_PORT if the hosts file lists ::1)
    expect(new Set(await servedBy(p, 4))).toEqual(new Set(['r1', 'r2']));
  });
});

describe('discovery with an injected resolver', () => {
  it('bounds a hanging lookup by the timeout, never overlaps rounds, and stops on close', async () => {
    let calls = 0;
    let running = 0;
    let maxRunning = 0;
    const resolve = (_host: string, signal: AbortSignal) => new Promise<string[]>((_ok, fail) => {
      calls++;
      maxRunning = Math.max(maxRunning, ++running);
      signal.addEventListener('abort', () => { running--; fail(new Error('aborted')); }, { once: true });
    });
    const t0 = performance.now();
    const p = await proxy({ backends: [], discovery: { targets: [{ host: 'hangs.test', port: 9 }], intervalMs: 10, timeoutMs: 150, resolve } });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140); // start-up waited for the first round, no longer
    expect(p.balancer.ids()).toEqual([]);
    await waitFor('four rounds', () => calls >= 4, 10_000);
    expect(maxRunning).toBe(1);
    expect(p.events.list().filter((e) => e.kind === 'discovery-failed')).toHaveLength(1);
    expect(p.events.list()[0]).toMatchObject({ kind: 'discovery-failed', error: 'no answer within 150 ms', keptAddresses: 0 });
    await p.close();
    const after = calls;
    expect(running).toBe(0); // close aborted the round in progress
    await new Promise((r) => setTimeout(r, 200));
    expect(calls).toBe(after);
  });

  it('adds discovered addresses without the --allow-backend-host list (the operator named them)', async () => {
    // 192.0.2.0/24 is TEST-NET-1: never routed. No health checks and no requests, so nothing dials it.
    const p = await proxy({
      backends: [], routing: {},
      discovery: { targets: [{ host: 'remote.test', port: 8080 }], intervalMs: 60_000, resolve: async () => ['192.0.2.10'] },
    });
    expect(p.balancer.ids()).toEqual(['192.0.2.10_8080']);
    const refused = await admin(p, 'POST', '/backends', { url: 'http://192.0.2.11:8080' });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('not loopback and not in the allow-list');
  });

  it('logs an address the backend limit refuses once, not every round', async () => {
    let calls = 0;
    const p = await proxy({
      backends: [], routing: {}, maxBackends: 2,
      discovery: { targets: [{ host: 'many.test', port: 8080 }], intervalMs: 10, resolve: async () => { calls++; return ['192.0.2.3', '192.0.2.1', '192.0.2.2']; } },
    });
    await waitFor('five rounds', () => calls >= 5, 10_000);
    expect(p.balancer.ids()).toEqual(['192.0.2.1_8080', '192.0.2.2_8080']);
    expect(p.events.list().filter((e) => e.kind === 'discovery-failed')).toEqual([
      expect.objectContaining({ target: 'many.test:8080', id: '192.0.2.3_8080', error: 'not added: at most 2 backends', keptAddresses: 3 }),
    ]);
  });

  it('an address a --backend already names is not added twice (its share would double)', async () => {
    const p = await proxy({
      backends: [{ url: rs[0].url }], routing: {},
      discovery: { targets: [{ host: 'twin.test', port }], intervalMs: 60_000, resolve: async () => ['127.0.0.1'] },
    });
    expect(p.balancer.ids()).toEqual(['s1']);
    expect(p.events.list().filter((e) => e.kind === 'discovery-failed')).toEqual([
      expect.objectContaining({ id: `127.0.0.1_${port}`, error: `not added: backend s1 already has origin ${rs[0].url}` }),
    ]);
  });

  it('an admin DELETE of a discovered backend lasts only until its drain ends while DNS still lists it', async () => {
    const p = await proxy({
      backends: [], routing: {},
      discovery: { targets: [{ host: 'kept.test', port: 8080 }], intervalMs: 60_000, resolve: async () => ['192.0.2.7'] },
    });
    expect((await admin(p, 'DELETE', '/backends/192.0.2.7_8080')).status).toBe(200); // nothing in flight: removed at once
    await waitFor('added back', () => p.balancer.has('192.0.2.7_8080'));
    expect(eventsOf(p, '192.0.2.7_8080')).toEqual(['discovered', 'draining', 'removed', 'discovered']);
  });

  it('refuses bad discovery options, naming each field', async () => {
    await expect(proxy({
      backends: [], discovery: { targets: [{ host: 'bad host', port: 0 }], intervalMs: 0, dnsServer: 'dns.test:53' },
    })).rejects.toThrow(/discovery\.targets\[0\]: got "bad host:0"[^]*discovery\.intervalMs: got 0; allowed: a positive integer[^]*discovery\.dnsServer: got "dns.test:53"; allowed: IP:PORT/);
  });
});
