// Slow and greedy clients: headers trickled one byte at a time are cut at the headers
// deadline; 200 such connections at once do not stop a normal client being served; a body
// slower than the request deadline is cut before it reaches a backend; connections beyond
// --max-connections are closed on accept.
import { type Server, type Socket, connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { proxy, replicas, waitFor } from '../live/helpers.ts';
import { type Exchange, exchange, held, printHeldRows, seenSince } from './helpers.ts';

afterAll(printHeldRows);

const portOf = (url: string) => Number(new URL(url).port);
/** Headers that never end: one byte per piece. */
const trickle = (bytes: number) => [...`GET /home HTTP/1.1\r\nHost: a\r\nX-Slow: ${'s'.repeat(bytes)}`];

/** A client of its own (no shared keep-alive pool), closed by the caller. */
async function timedGets(url: string, n: number): Promise<{ latenciesMs: number[]; statuses: number[] }> {
  const agent = new Agent({ connections: 1 });
  const latenciesMs: number[] = [];
  const statuses: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const res = await request(`${url}/home`, { dispatcher: agent });
      await res.body.dump();
      latenciesMs.push(performance.now() - t0);
      statuses.push(res.statusCode);
    }
  } finally {
    await agent.close();
  }
  return { latenciesMs, statuses };
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

describe('slowloris and slow bodies', () => {
  it('headers sent one byte every 50 ms are cut with 408 at the headers deadline; the proxy keeps serving', async () => {
    const [r] = await replicas(1);
    const p = await proxy({ backends: [{ url: r.url }], limits: { headersTimeoutMs: 1_000 } });
    const ex = await exchange(portOf(p.url), trickle(200), { gapMs: 50, timeoutMs: 15_000 });
    expect(ex.statuses).toEqual([408]);
    expect(ex.codes).toEqual(['request_timeout']);
    expect(ex.closedByServer).toBe(true);
    // Cut at 1 s, checked every second: between 1 s and 2 s plus slack for a loaded machine.
    expect(ex.ms).toBeGreaterThanOrEqual(1_000);
    expect(ex.ms).toBeLessThan(6_000);
    expect(r.requests).toEqual([]);
    expect((await timedGets(p.url, 1)).statuses).toEqual([200]);
    held('slowloris: headers 1 byte / 50 ms', 2, '408 `request_timeout` at the 1 s headers deadline');
  });

  it('200 trickling connections at once: a normal client is served meanwhile, then all 200 get 408', async () => {
    const [r] = await replicas(1);
    const headersTimeoutMs = 5_000;
    const p = await proxy({ backends: [{ url: r.url }], limits: { headersTimeoutMs } });
    const ATTACKERS = 200;
    const NORMAL = 50;
    let open = 0;
    const attacks: Array<Promise<Exchange>> = [];
    for (let i = 0; i < ATTACKERS; i++) {
      const attack = exchange(portOf(p.url), trickle(400), { gapMs: 200, timeoutMs: 30_000 });
      open++;
      attacks.push(attack.finally(() => { open--; }));
    }
    await waitFor('all attackers connected', async () => (await connections(p.app.server)) >= ATTACKERS, 10_000);
    const t0 = Date.now();
    const normal = await timedGets(p.url, NORMAL);
    // Served while every attacker still held its connection (not just after they were cut).
    expect(open).toBe(ATTACKERS);
    expect(Date.now() - t0).toBeLessThan(headersTimeoutMs);
    expect(normal.statuses).toEqual(Array(NORMAL).fill(200));
    const results = await Promise.all(attacks);
    for (const a of results) {
      expect(a.statuses).toEqual([408]);
      expect(a.closedByServer).toBe(true);
    }
    expect(seenSince(r, 0)).toEqual(Array(NORMAL).fill('GET /home'));
    const p50 = quantile(normal.latenciesMs, 0.5).toFixed(1);
    const p99 = quantile(normal.latenciesMs, 0.99).toFixed(1);
    const max = Math.max(...normal.latenciesMs).toFixed(1);
    process.stdout.write(`slowloris x${ATTACKERS}: normal GET p50 ${p50} ms, p99 ${p99} ms, max ${max} ms; attackers cut after ${Math.round(Math.max(...results.map((a) => a.ms)))} ms at most\n`);
    held(`slowloris: ${ATTACKERS} connections trickling headers, ${NORMAL} normal GETs meanwhile`, ATTACKERS + NORMAL,
      `normal: ${NORMAL} × 200 while all ${ATTACKERS} held (p99 ${p99} ms); attackers: 408 each`);
  });

  it('a body slower than the request deadline is cut with 408 and never reaches a backend', async () => {
    const [r] = await replicas(1);
    const p = await proxy({ backends: [{ url: r.url }], limits: { headersTimeoutMs: 1_000, requestTimeoutMs: 2_000 } });
    const head = 'POST /slow-body HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n';
    const ex = await exchange(portOf(p.url), [head, ...'x'.repeat(100)], { gapMs: 100, timeoutMs: 20_000 });
    expect(ex.statuses).toEqual([408]);
    expect(ex.codes).toEqual(['request_timeout']);
    expect(ex.closedByServer).toBe(true);
    expect(ex.ms).toBeGreaterThanOrEqual(2_000);
    expect(ex.ms).toBeLessThan(8_000); // 100 bytes would take 10 s
    expect((await timedGets(p.url, 1)).statuses).toEqual([200]);
    expect(seenSince(r, 0)).toEqual(['GET /home']); // the slow POST never left the proxy
    held('slow body: 100 bytes at 1 byte / 100 ms, 2 s request deadline', 2, '408 `request_timeout`; backend saw 0');
  });

  it('connections beyond maxConnections are closed on accept; freeing some lets clients in again', async () => {
    const [r] = await replicas(1);
    const LIMIT = 20;
    const p = await proxy({ backends: [{ url: r.url }], limits: { maxConnections: LIMIT } });
    const idle = await Promise.all(Array.from({ length: LIMIT }, () => openSocket(portOf(p.url))));
    try {
      await waitFor('the proxy to hold all idle connections', async () => (await connections(p.app.server)) === LIMIT);
      const refused = await exchange(portOf(p.url), 'GET /home HTTP/1.1\r\nHost: a\r\n\r\n', { timeoutMs: 5_000 });
      expect(refused.statuses).toEqual([]);
      expect(refused.closedByServer).toBe(true);
      expect(await p.metrics.registry.getSingleMetricAsString('fulcrum_client_connections_dropped_total')).toMatch(/_total 1$/m);
      for (const s of idle.splice(0, 5)) s.destroy();
      await waitFor('freed connections to be gone', async () => (await connections(p.app.server)) <= LIMIT - 5);
      expect((await timedGets(p.url, 3)).statuses).toEqual([200, 200, 200]);
      expect(seenSince(r, 0)).toEqual(['GET /home', 'GET /home', 'GET /home']); // the refused one never arrived
    } finally {
      for (const s of idle) s.destroy();
    }
    held(`${LIMIT + 1}st connection with maxConnections ${LIMIT}`, 4, 'closed on accept, no answer; served again once 5 are freed');
  });
});

function connections(server: Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}
