// Jepsen-style: a client history under load, a nemesis (SIGKILL of one replica), and a
// checker. Retries must lose no idempotent request, and a non-idempotent one reaches a
// backend at most once (only connect failures, which prove nothing was sent, move it).
import { describe, expect, it } from 'vitest';
import { attempts, proxy, replicas, seenCounts, send } from './helpers.ts';

describe('SIGKILL of a replica under load', () => {
  it('every request gets exactly one answer, every GET succeeds, no POST reaches a backend twice', async () => {
    const rs = await replicas(3, () => ({ serviceTime: { dist: 'exponential', mean: 2 } }));
    const p = await proxy({
      backends: rs.map((r) => ({ url: r.url })),
      routing: {
        balancer: { policy: 'p2c' },
        health: {
          active: { intervalMs: 100, timeoutMs: 80, fall: 2, rise: 2 },
          outlier: { consecutiveFailures: 3, baseEjectionMs: 10_000 },
        },
        // The budget admits as many concurrent retries as there are clients: this test is about loss, not shedding.
        retry: { maxAttempts: 3, backoffBaseMs: 5, backoffMaxMs: 20, budget: { ratio: 0.2, minConcurrent: 8 } },
        timeouts: { requestMs: 3_000, perTryMs: 1_000, connectMs: 200 },
      },
    });

    const WORKERS = 8;
    const BEFORE_KILL = 200;
    const AFTER_KILL = 400;
    const history: Array<{ rid: string; method: string; status: number; path: string; error?: string }> = [];
    let issued = 0;
    // The kill is fired by the 200th answer, from inside the load, so it always lands with
    // requests in flight and 400 more to come (a poll from outside could come too late on a
    // loaded machine, after the load had ended).
    let issuedAtKill: number | undefined;
    const stopAt = Date.now() + 20_000;
    const worker = async (w: number) => {
      while ((issuedAtKill === undefined || issued < issuedAtKill + AFTER_KILL) && Date.now() < stopAt) {
        const n = issued++;
        const method = n % 2 === 0 ? 'GET' : 'POST';
        const rid = `w${w}-${n}`;
        try {
          const r = await send(`${p.url}/op/${n}`, { method, headers: { 'x-request-id': rid }, body: method === 'POST' ? `payload ${n}` : undefined });
          history.push({ rid, method, status: r.status, path: attempts(r) });
        } catch (err) {
          history.push({ rid, method, status: 0, path: '', error: String(err) });
        }
        if (issuedAtKill === undefined && history.length >= BEFORE_KILL) {
          issuedAtKill = issued;
          rs[1].kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    expect(issuedAtKill, 'the kill happened').toBeDefined();
    const exit = await rs[1].exited;
    expect(exit.signal).toBe('SIGKILL');

    // Exactly one answer per request, each a real HTTP response.
    expect(history.length).toBe(issued);
    expect(new Set(history.map((h) => h.rid)).size).toBe(history.length);
    expect(history.filter((h) => h.status === 0)).toEqual([]);
    // Idempotent requests are never lost.
    const gets = history.filter((h) => h.method === 'GET');
    expect(gets.filter((h) => h.status !== 200)).toEqual([]);
    // A POST is answered by a backend or fails with a gateway error, and no backend saw it twice.
    const posts = history.filter((h) => h.method === 'POST');
    expect(posts.filter((h) => h.status !== 200 && h.status !== 502)).toEqual([]);
    const seen = seenCounts(rs);
    for (const h of posts) {
      expect(seen.get(h.rid) ?? 0, h.rid).toBeLessThanOrEqual(1);
      if (h.status === 200) expect(seen.get(h.rid), h.rid).toBe(1);
    }
    // The kill was felt and handled: requests met the dead s2 (a GET retried elsewhere, or a
    // POST that may have been sent answered 502: which ones met it is chance, and three POSTs
    // alone can eject s2), every retry started on s2, and s2 is out of rotation.
    const metDeadS2 = history.filter((h) => h.path.startsWith('s2|') || (h.method === 'POST' && h.status === 502 && h.path === 's2'));
    expect(metDeadS2.length).toBeGreaterThan(0);
    expect(history.filter((h) => h.path.includes('|')).every((h) => h.path.startsWith('s2|'))).toBe(true);
    expect(history.reduce((n, h) => n + (h.path ? h.path.split('|').length - 1 : 0), 0)).toBe(p.router.counts.retries);
    expect(p.balancer.status(p.driver.now()).find((s) => s.id === 's2')?.routable).toBe(false);
  });
});
