// The admin API's changes: add, reweight, mark, remove, the original project's aliases,
// metrics and events. Refused calls are in test/security/admin.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunningProxy } from '../../live/proxy/start.ts';
import type { SpawnedReplica } from '../../server/spawn.ts';
import { admin, attempts, proxy, replicas, send, waitFor } from './helpers.ts';

let rs: SpawnedReplica[];
let p: RunningProxy;

beforeAll(async () => {
  rs = await replicas(4);
  p = await proxy({ backends: rs.slice(0, 3).map((r) => ({ url: r.url })), policy: 'round-robin' });
});

describe('admin API changes', () => {
  it('add, reweight, mark down and up, remove; aliases /rep, /add, /rm; metrics and events', async () => {
    const added = await admin(p, 'POST', '/backends', { url: rs[3].url, weight: 2 });
    expect(added.status).toBe(201);
    expect(added.json).toMatchObject({ id: 's4', weight: 2, url: rs[3].url });
    expect((await admin(p, 'GET', '/rep')).json).toEqual({ message: { N: 4, replicas: ['s1', 's2', 's3', 's4'] }, status: 'successful' });

    expect((await admin(p, 'PUT', '/backends/s4/weight', { weight: 3 })).json).toMatchObject({ weight: 3 });
    // An added backend takes traffic after its first probe passes (requireFirstPass), which the add does not wait for.
    await waitFor('s4 routable', () => p.balancer.status(p.driver.now()).find((b) => b.id === 's4')?.routable === true, 5_000);
    for (const id of ['s1', 's2', 's3']) expect((await admin(p, 'POST', `/backends/${id}/down`)).json).toMatchObject({ state: 'down' });
    for (let i = 0; i < 3; i++) expect(attempts(await send(`${p.url}/home`))).toBe('s4');
    expect((await admin(p, 'POST', '/backends/s4/down')).json).toMatchObject({ state: 'down', routable: false });
    const none = await send(`${p.url}/home`);
    expect(none.status).toBe(503);
    expect(none.headers['x-fulcrum-error']).toBe('no_backend');
    expect(none.headers['retry-after']).toBe('1');
    for (const id of ['s1', 's2', 's3', 's4']) expect((await admin(p, 'PUT', `/backends/${id}/up`)).status).toBe(200);

    expect((await admin(p, 'DELETE', '/rm', { id: 's4' })).json).toEqual({ id: 's4', state: 'removed' });
    const viaAlias = await admin(p, 'POST', '/add', { id: 'extra', url: rs[3].url });
    expect(viaAlias.status).toBe(201);
    expect((await admin(p, 'DELETE', '/backends/extra')).status).toBe(200);

    const metrics = await admin(p, 'GET', '/metrics');
    expect(metrics.headers['content-type']).toContain('text/plain');
    for (const name of ['fulcrum_requests_total', 'fulcrum_upstream_attempts_total', 'fulcrum_upstream_attempt_duration_seconds_bucket',
      'fulcrum_router_retries_total', 'fulcrum_router_retry_budget_overflows_total', 'fulcrum_ejections_total', 'fulcrum_backend_healthy',
      'fulcrum_panic', 'fulcrum_in_flight_requests']) expect(metrics.text).toContain(name);
    expect(metrics.text).toMatch(/fulcrum_requests_total\{status_class="5xx"\} 1/);
    expect(metrics.text).not.toContain('backend="s4"'); // removed backends leave no series behind

    const events = await admin(p, 'GET', '/events');
    expect((events.json.events as Array<{ kind: string; id?: string }>).filter((e) => e.id === 's4').map((e) => e.kind)).toContain('removed');
    expect((await admin(p, 'GET', '/events?since=abc')).status).toBe(400);
  });
});
