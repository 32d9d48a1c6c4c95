// A replica that accepts connections but never answers — wedged (control endpoint `hang`)
// or paused (SIGSTOP: the kernel still completes handshakes). Its requests time out at the
// per-try timeout and are retried elsewhere; it is ejected; a POST is not retried.
import { describe, expect, it } from 'vitest';
import type { SpawnedReplica } from '../../server/spawn.ts';
import { attempts, proxy, replicas, seenCounts, send, waitFor } from './helpers.ts';

const PER_TRY_MS = 300;

function hangProxy(rs: SpawnedReplica[]) {
  return proxy({
    backends: rs.map((r) => ({ url: r.url })),
    routing: {
      balancer: { policy: 'round-robin' },
      health: { outlier: { consecutiveFailures: 2, baseEjectionMs: 30_000 } },
      retry: { maxAttempts: 3, backoffBaseMs: 5, backoffMaxMs: 20 },
      timeouts: { requestMs: 2_000, perTryMs: PER_TRY_MS, connectMs: 200 },
    },
  });
}

/** `failuresLeft`: timeouts still needed to reach the ejection threshold. */
async function checkHungBackendIsRoutedAround(p: Awaited<ReturnType<typeof hangProxy>>, failuresLeft: number): Promise<void> {
  const results = [];
  for (let i = 0; i < 24; i++) results.push(await send(`${p.url}/home`, { headers: { 'x-request-id': `g${i}` } }));
  expect(results.map((r) => r.status).every((s) => s === 200)).toBe(true);
  const hitHung = results.filter((r) => attempts(r).startsWith('s2|'));
  // Two consecutive per-try timeouts eject s2; after that nothing is sent there.
  expect(hitHung.length).toBe(failuresLeft);
  for (const r of hitHung) {
    expect(r.ms).toBeGreaterThanOrEqual(PER_TRY_MS - 5);
    // Cut at the per-try timeout, not the 2 s request deadline (slack for a loaded machine).
    expect(r.ms).toBeLessThan(PER_TRY_MS * 3);
  }
  const firstAfter = results.indexOf(hitHung[failuresLeft - 1]) + 1;
  expect(results.slice(firstAfter).some((r) => attempts(r).includes('s2'))).toBe(false);
  const s2 = p.balancer.status(p.driver.now()).find((s) => s.id === 's2')!;
  expect(s2.ejectedUntilMs).toBeGreaterThan(0);
  expect(s2.routable).toBe(false);
  expect(p.events.list({ backend: 's2' }).map((e) => e.kind)).toContain('ejected');
}

describe('hung replica', () => {
  it('control-endpoint hang: per-try timeout, retried elsewhere, ejected; a POST gets 504 and is not retried', async () => {
    const rs = await replicas(3);
    await rs[1].setFault({ mode: 'hang' });
    const p = await hangProxy(rs);

    // Round robin from a fresh proxy: s1, then s2 for the POST.
    expect((await send(`${p.url}/home`)).status).toBe(200);
    const post = await send(`${p.url}/orders`, { method: 'POST', body: 'x', headers: { 'x-request-id': 'post-1' } });
    expect(post.status).toBe(504);
    expect(post.headers['x-fulcrum-error']).toBe('upstream_timeout');
    expect(attempts(post)).toBe('s2');
    expect(post.ms).toBeLessThan(PER_TRY_MS * 3);
    expect(seenCounts(rs).get('post-1')).toBe(1);

    await checkHungBackendIsRoutedAround(p, 1); // the POST's timeout was the first failure
  });

  it('SIGSTOP: the same, although connections to it still succeed', async () => {
    const rs = await replicas(3);
    const p = await hangProxy(rs);
    expect((await send(`${p.url}/home`)).status).toBe(200); // s1; the next first try is s2
    rs[1].kill('SIGSTOP');
    try {
      await checkHungBackendIsRoutedAround(p, 2);
    } finally {
      rs[1].kill('SIGCONT');
    }
  });

  it('active checks: a hung heartbeat marks the replica unhealthy within fall × interval, and it returns when it recovers', async () => {
    const rs = await replicas(2);
    const p = await proxy({
      backends: rs.map((r) => ({ url: r.url })),
      routing: { health: { active: { intervalMs: 200, timeoutMs: 150, fall: 2, rise: 2 } } },
    });
    const health = () => p.balancer.status(p.driver.now()).find((s) => s.id === 's2')!.health;
    expect(health()).toBe('healthy'); // startProxy waited for the first probe round
    await rs[1].setFault({ mode: 'hang' });
    const t0 = Date.now();
    await waitFor('s2 unhealthy', () => health() === 'unhealthy', 3_000);
    // fall × (interval + timeout) = 700 ms, plus slack for a loaded machine.
    expect(Date.now() - t0).toBeLessThan(1_500);
    for (let i = 0; i < 6; i++) expect(attempts(await send(`${p.url}/home`))).toBe('s1');
    await rs[1].setFault({ mode: 'normal' });
    await waitFor('s2 healthy again', () => health() === 'healthy', 3_000);
    expect(p.events.list({ backend: 's2' }).filter((e) => e.kind === 'health').map((e) => 'status' in e && e.status))
      .toEqual(['healthy', 'unhealthy', 'healthy']); // first pass (warming), down, up again
  });
});
