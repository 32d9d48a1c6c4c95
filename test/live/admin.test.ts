// The admin API: authenticated, method-disciplined, JSON-only, validated in full, atomic.
// Every refused call must leave the backend list exactly as it was.
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunningProxy } from '../../live/proxy/start.ts';
import type { SpawnedReplica } from '../../server/spawn.ts';
import { admin, attempts, proxy, replicas, send } from './helpers.ts';

let rs: SpawnedReplica[];
let p: RunningProxy;

beforeAll(async () => {
  rs = await replicas(4);
  p = await proxy({ backends: rs.slice(0, 3).map((r) => ({ url: r.url })), policy: 'round-robin' });
});

/** The backend list without counters that traffic may move. */
async function snapshot() {
  const r = await admin(p, 'GET', '/backends');
  return (r.json.backends as Array<Record<string, unknown>>).map(({ stats: _s, ...rest }) => rest);
}

describe('admin API refuses bad calls and changes nothing', () => {
  const cases: Array<[string, string, string, unknown, { token?: string | null; headers?: Record<string, string>; raw?: string }, number, string?]> = [
    ['no token', 'GET', '/backends', undefined, { token: null }, 401, 'unauthorized'],
    ['wrong token', 'POST', '/backends', { url: 'http://127.0.0.1:1' }, { token: 'nope' }, 403, 'forbidden'],
    ['cross-site Origin', 'POST', '/backends/s1/down', undefined, { headers: { origin: 'http://evil.example' } }, 403, 'cross_origin'],
    ['mutation via GET', 'GET', '/add', undefined, {}, 405, 'method_not_allowed'],
    ['unknown method on a route', 'PATCH', '/backends/s1', undefined, {}, 405, 'method_not_allowed'],
    ['text/plain body', 'POST', '/backends', undefined, { raw: 'url=http://127.0.0.1:1', headers: { 'content-type': 'text/plain' } }, 415],
    ['form body', 'POST', '/backends', undefined, { raw: 'url=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415],
    ['truncated JSON', 'POST', '/backends', undefined, { raw: '{"url": "http://127.', headers: { 'content-type': 'application/json' } }, 400],
    ['empty JSON body', 'POST', '/backends', undefined, { raw: '', headers: { 'content-type': 'application/json' } }, 400],
    ['body over 64 KiB', 'POST', '/backends', undefined, { raw: JSON.stringify({ url: 'x'.repeat(70_000) }), headers: { 'content-type': 'application/json' } }, 413],
    ['non-loopback URL (SSRF)', 'POST', '/backends', { url: 'http://169.254.169.254:80' }, {}, 400, 'invalid'],
    ['URL with a path', 'POST', '/backends', { url: 'http://127.0.0.1:9/admin' }, {}, 400, 'invalid'],
    ['duplicate id', 'POST', '/backends', { id: 's1', url: 'http://127.0.0.1:9' }, {}, 409, 'conflict'],
    ['unknown id removed', 'DELETE', '/backends/s9', undefined, {}, 404, 'not_found'],
    ['unknown id reweighted', 'PUT', '/backends/s9/weight', { weight: 2 }, {}, 404, 'not_found'],
    ['/rm of an unknown id', 'DELETE', '/rm', { id: 's9' }, {}, 404, 'not_found'],
    ['fields on down', 'POST', '/backends/s1/down', { force: true }, {}, 400, 'invalid_body'],
  ];
  for (const [name, method, path, body, o, status, code] of cases) {
    it(`${name} → ${status}`, async () => {
      const before = await snapshot();
      const r = await admin(p, method, path, body, o);
      expect(r.status).toBe(status);
      expect(r.json).toMatchObject({ statusCode: status });
      if (code) expect(r.json.code).toBe(code);
      if (status === 401) expect(r.headers['www-authenticate']).toContain('Bearer');
      if (status === 405) expect(r.headers.allow).toBeTruthy();
      expect(await snapshot()).toEqual(before);
    });
  }

  it('reports every schema error at once, each with its JSON path', async () => {
    const before = await snapshot();
    const r = await admin(p, 'POST', '/backends', { id: 'bad id!', weight: -1, colour: 'red' });
    expect(r.status).toBe(400);
    const paths = r.json.errors!.map((e) => e.path).sort();
    expect(paths).toEqual(['/colour', '/id', '/url', '/weight']);
    expect(r.json.errors!.find((e) => e.path === '/colour')!.message).toBe('unknown field');
    expect(await snapshot()).toEqual(before);
  });

  it('405 names the allowed methods', async () => {
    const r = await admin(p, 'GET', '/backends/s1/weight');
    expect(r.headers.allow).toBe('POST, PUT');
  });
});

describe('admin API changes', () => {
  it('add, reweight, mark down and up, remove; aliases /rep, /add, /rm; metrics and events', async () => {
    const added = await admin(p, 'POST', '/backends', { url: rs[3].url, weight: 2 });
    expect(added.status).toBe(201);
    expect(added.json).toMatchObject({ id: 's4', weight: 2, url: rs[3].url });
    expect((await admin(p, 'GET', '/rep')).json).toEqual({ message: { N: 4, replicas: ['s1', 's2', 's3', 's4'] }, status: 'successful' });

    expect((await admin(p, 'PUT', '/backends/s4/weight', { weight: 3 })).json).toMatchObject({ weight: 3 });
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
