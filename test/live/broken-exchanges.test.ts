// Exchanges that break half-way: a backend that dies mid-body (the client must never see
// a complete answer, and nothing is retried once bytes went out) and a client that leaves
// (the backend is freed and not blamed).
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { rawBackend } from '../security/raw-backend.ts';
import { admin, proxy, replicas, send, waitFor } from './helpers.ts';

describe('broken exchanges', () => {
  it('a reset after the response started aborts the client connection; no retry; the backend is blamed', async () => {
    const rs = await replicas(2);
    await rs[0].setFault({ mode: 'reset', when: 'mid-body' });
    const p = await proxy({ backends: rs.map((r) => ({ url: r.url })), policy: 'round-robin', routing: { retry: {}, health: { outlier: {} } } });
    await expect(send(`${p.url}/home`)).rejects.toThrow(); // s1 first: 100 of 1000 bytes, then the connection is cut
    expect(p.router.counts).toMatchObject({ requests: 1, attempts: 1, retries: 0 });
    const s1 = p.balancer.status(p.driver.now()).find((s) => s.id === 's1')!;
    expect(s1.inFlight).toBe(0);
    expect((await admin(p, 'GET', '/backends/s1')).json.stats).toMatchObject({ attempts: 1, failures: 1, byStatusClass: { error: 1 } });
    expect((await send(`${p.url}/home`)).status).toBe(200); // s2, and the proxy is fine
  });

  it('a client that leaves mid-request frees the backend without counting a failure', async () => {
    const rs = await replicas(1, () => ({ serviceTime: { dist: 'constant', value: 400 } }));
    const p = await proxy({ backends: [{ url: rs[0].url }], routing: { retry: {}, health: { outlier: { consecutiveFailures: 1 } } } });
    const status = () => p.balancer.status(p.driver.now())[0];
    for (let i = 0; i < 3; i++) {
      const ac = new AbortController();
      const pending = fetch(`${p.url}/home`, { signal: ac.signal });
      await waitFor('request in flight', () => status().inFlight === 1, 2_000);
      ac.abort();
      await expect(pending).rejects.toThrow();
      await waitFor('backend freed', () => status().inFlight === 0, 1_000);
    }
    expect(status()).toMatchObject({ routable: true, timesEjected: 0 }); // one failure would have ejected it
    const metrics = await (await fetch(`${p.adminUrl}/metrics`, { headers: { authorization: 'Bearer test-admin-token' } })).text();
    expect(metrics).toMatch(/^fulcrum_in_flight_requests 0$/m);
    expect((await send(`${p.url}/home`)).status).toBe(200);
  });

  it('a client that leaves during the backoff before a retry ends the flow once: no second attempt, the retry slot freed', async () => {
    const unavailable = () => ({ bytes: 'HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\ncontent-length: 0\r\n\r\n' });
    const backends = [await rawBackend(unavailable), await rawBackend(unavailable)];
    try {
      const p = await proxy({ backends: backends.map((b) => ({ url: b.url })), policy: 'round-robin', journal: true, routing: { retry: {} } });
      const ac = new AbortController();
      const pending = fetch(`${p.url}/home`, { signal: ac.signal });
      // Retry-After: 1 holds the flow in a backoff of at least 1 s, with a retry slot taken.
      await waitFor('backoff', () => p.router.rules.budget.inUse === 1 && p.router.counts.attempts === 1, 2_000);
      ac.abort();
      await expect(pending).rejects.toThrow();
      const aborts = () => p.journal!.entries.filter((e) => e.op === 'abort');
      await waitFor('flow aborted', () => aborts().length === 1, 2_000);
      await sleep(1_300); // past the backoff: proves its timer can no longer start an attempt
      expect(aborts()).toHaveLength(1);
      expect(p.journal!.entries.filter((e) => e.op === 'next')).toHaveLength(1);
      expect(p.router.counts).toMatchObject({ requests: 1, attempts: 1, retries: 0 });
      expect(p.router.rules.budget.inUse).toBe(0);
      expect(backends[0].requests.length + backends[1].requests.length).toBe(1);
      expect(p.balancer.status(p.driver.now()).every((s) => s.inFlight === 0)).toBe(true);
    } finally {
      await Promise.all(backends.map((b) => b.close()));
    }
  });
});
