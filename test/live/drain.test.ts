// Removal drains: the removed replica gets no new request from the moment the admin call
// returns, its in-flight requests finish normally, and then it is gone.
import { describe, expect, it } from 'vitest';
import { admin, attempts, proxy, replicas, send, waitFor } from './helpers.ts';

describe('removing a backend', () => {
  it('drains without dropping in-flight requests', async () => {
    const rs = await replicas(3, () => ({ serviceTime: { dist: 'constant', value: 700 } }));
    const p = await proxy({ backends: rs.map((r) => ({ url: r.url })), policy: 'round-robin' });
    const s2 = () => p.balancer.status(p.driver.now()).find((s) => s.id === 's2');

    const inFlight = Array.from({ length: 6 }, (_, i) => send(`${p.url}/slow/${i}`));
    await waitFor('two requests in flight on s2', () => s2()?.inFlight === 2, 3_000);

    const removed = await admin(p, 'DELETE', '/backends/s2');
    expect(removed.status).toBe(202);
    expect(removed.json).toMatchObject({ id: 's2', state: 'draining', inFlight: 2 });

    const later = await Promise.all(Array.from({ length: 6 }, (_, i) => send(`${p.url}/later/${i}`)));
    expect(later.map(attempts).filter((a) => a.includes('s2'))).toEqual([]);

    const first = await Promise.all(inFlight);
    expect(first.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(first.filter((r) => attempts(r) === 's2').length).toBe(2);

    await waitFor('s2 removed', () => s2() === undefined, 2_000);
    const list = await admin(p, 'GET', '/backends');
    expect((list.json.backends as Array<{ id: string }>).map((b) => b.id)).toEqual(['s1', 's3']);
    expect(p.events.list({ backend: 's2' }).map((e) => e.kind).filter((k) => k !== 'health')).toEqual(['draining', 'removed']);
    // A removed backend's id is free again.
    expect((await admin(p, 'POST', '/backends', { id: 's2', url: rs[1].url })).status).toBe(201);
  });
});
