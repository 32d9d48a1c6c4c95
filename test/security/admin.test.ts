// The admin API refuses what it must: no or wrong token, a token anywhere but the
// Authorization header, mutations by GET, bodies that are not well-formed JSON objects of
// the right shape, backend URLs that would make the proxy reach beyond this machine,
// oversized bodies, cross-site callers. After every refusal the full backend list is
// byte-for-byte what it was, the event log gained nothing and nothing was audit-logged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningProxy, startProxy } from '../../live/proxy/start.ts';
import type { SpawnedReplica } from '../../server/spawn.ts';
import { ADMIN_TOKEN, admin, proxy, replicas, send } from '../live/helpers.ts';
import { held, printHeldRows } from './helpers.ts';

let rs: SpawnedReplica[];
let p: RunningProxy;
const audited: unknown[] = [];

beforeAll(async () => {
  rs = await replicas(3);
  p = await proxy({
    backends: rs.map((r) => ({ url: r.url })), policy: 'round-robin', allowBackendHosts: ['10.0.0.7'],
    onAudit: (entry) => audited.push(entry),
  });
});
afterAll(printHeldRows);

/** Everything an operator can see: the full backend list and the event log. */
async function state() {
  const backends = await admin(p, 'GET', '/backends');
  const events = await admin(p, 'GET', '/events');
  expect(backends.status).toBe(200);
  return { backends: backends.text, events: events.text, ids: p.balancer.ids() };
}

type Opts = { token?: string | null; headers?: Record<string, string>; raw?: string };
const json = { 'content-type': 'application/json' };
const rawJson = (raw: string): Opts => ({ raw, headers: json });
const addUrl = (url: string): [string, string, unknown, Opts] => ['POST', '/backends', { url }, {}];

const cases: Array<[string, [string, string, unknown, Opts], number, string?, string?]> = [
  // Who may call.
  ['no token', ['POST', '/backends/s1/down', undefined, { token: null }], 401, 'unauthorized'],
  ['wrong token', ['POST', '/backends', { url: 'http://127.0.0.1:1' }, { token: 'nope' }], 403, 'forbidden'],
  ['token of the right length but wrong', ['POST', '/backends/s1/down', undefined, { token: 'x'.repeat(ADMIN_TOKEN.length) }], 403, 'forbidden'],
  ['token in the query string (?token=)', ['POST', `/backends/s1/down?token=${ADMIN_TOKEN}`, undefined, { token: null }], 401, 'unauthorized'],
  ['token in the query string (?access_token=)', ['DELETE', `/backends/s1?access_token=${ADMIN_TOKEN}`, undefined, { token: null }], 401, 'unauthorized'],
  ['token as Basic credentials', ['POST', '/backends/s1/down', undefined, { token: null, headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` } }], 403, 'forbidden'],
  ['token in a cookie', ['POST', '/backends/s1/down', undefined, { token: null, headers: { cookie: `token=${ADMIN_TOKEN}` } }], 401, 'unauthorized'],
  ['cross-site Origin', ['POST', '/backends/s1/down', undefined, { headers: { origin: 'http://evil.example' } }], 403, 'cross_origin'],
  // Mutations by GET (a link or an <img> must not change anything).
  ['GET /backends/s1/down', ['GET', '/backends/s1/down', undefined, {}], 405, 'method_not_allowed', 'POST, PUT'],
  ['GET /backends/s1/up', ['GET', '/backends/s1/up', undefined, {}], 405, 'method_not_allowed', 'POST, PUT'],
  ['GET /backends/s1/weight?weight=9', ['GET', '/backends/s1/weight?weight=9', undefined, {}], 405, 'method_not_allowed', 'POST, PUT'],
  ['GET /rm?id=s1', ['GET', '/rm?id=s1', undefined, {}], 405, 'method_not_allowed', 'DELETE, POST'],
  ['GET /add?url=…', ['GET', '/add?url=http://127.0.0.1:9', undefined, {}], 405, 'method_not_allowed', 'POST'],
  ['PATCH /backends/s1', ['PATCH', '/backends/s1', { weight: 5 }, {}], 405, 'method_not_allowed', 'DELETE, GET'],
  // Bodies.
  ['truncated JSON', ['POST', '/backends', undefined, rawJson('{"url": "http://127.')], 400],
  ['empty JSON body', ['POST', '/backends', undefined, rawJson('')], 400],
  ['JSON array', ['POST', '/backends', undefined, rawJson('[{"url":"http://127.0.0.1:9"}]')], 400, 'invalid_body'],
  ['JSON null', ['PUT', '/backends/s1/weight', undefined, rawJson('null')], 400],
  ['text/plain body', ['POST', '/backends', undefined, { raw: '{"url":"http://127.0.0.1:9"}', headers: { 'content-type': 'text/plain' } }], 415],
  ['form body', ['POST', '/backends', undefined, { raw: 'url=http://127.0.0.1:9', headers: { 'content-type': 'application/x-www-form-urlencoded' } }], 415],
  ['body over 64 KiB', ['POST', '/backends', undefined, rawJson(JSON.stringify({ url: 'x'.repeat(70_000) }))], 413],
  ['unknown field', ['POST', '/backends', { url: 'http://127.0.0.1:9', admin: true }, {}], 400, 'invalid_body'],
  ['weight as a string', ['PUT', '/backends/s1/weight', { weight: '2' }, {}], 400, 'invalid_body'],
  ['weight negative', ['PUT', '/backends/s1/weight', { weight: -1 }, {}], 400, 'invalid_body'],
  ['weight zero', ['PUT', '/backends/s1/weight', { weight: 0 }, {}], 400, 'invalid_body'],
  ['url as a number', ['POST', '/backends', { url: 9001 }, {}], 400, 'invalid_body'],
  ['id with a slash', ['POST', '/backends', { id: '../s1', url: 'http://127.0.0.1:9' }, {}], 400, 'invalid_body'],
  ['fields on down', ['POST', '/backends/s1/down', { force: true }, {}], 400, 'invalid_body'],
  ['prototype pollution key', ['POST', '/backends', undefined, rawJson('{"url":"http://127.0.0.1:9","__proto__":{"admin":true}}')], 400],
  // Backend URLs: http origins on loopback or an allow-listed host only (no SSRF).
  ['file: URL', addUrl('file:///etc/passwd'), 400, 'invalid'],
  ['ftp: URL', addUrl('ftp://127.0.0.1:21'), 400, 'invalid'],
  ['javascript: URL', addUrl('javascript:alert(1)'), 400, 'invalid'],
  ['https: URL', addUrl('https://127.0.0.1:9443'), 400, 'invalid'],
  ['credentials in the URL', addUrl('http://user:pass@127.0.0.1:9'), 400, 'invalid'],
  ['metadata address 169.254.169.254', addUrl('http://169.254.169.254:80'), 400, 'invalid'],
  ['metadata address as IPv4-mapped IPv6', addUrl('http://[::ffff:169.254.169.254]:80'), 400, 'invalid'],
  ['host not in the allow-list', addUrl('http://10.0.0.8:80'), 400, 'invalid'],
  ['0.0.0.0', addUrl('http://0.0.0.0:9'), 400, 'invalid'],
  ['a name that only starts like localhost', addUrl('http://localhost.evil.example:9'), 400, 'invalid'],
  ['URL with a path', addUrl('http://127.0.0.1:9/admin'), 400, 'invalid'],
  ['not a URL', addUrl('127.0.0.1:9'), 400, 'invalid'],
  // Ids.
  ['duplicate id', ['POST', '/backends', { id: 's1', url: 'http://127.0.0.1:9' }, {}], 409, 'conflict'],
  ['unknown id removed', ['DELETE', '/backends/s9', undefined, {}], 404, 'not_found'],
  ['/rm of an unknown id', ['DELETE', '/rm', { id: 's9' }, {}], 404, 'not_found'],
];

describe('admin API refuses bad calls and changes nothing', () => {
  for (const [name, [method, path, body, o], status, code, allow] of cases) {
    it(`${name} → ${status}${code ? ` ${code}` : ''}`, async () => {
      const before = await state();
      const r = await admin(p, method, path, body, o);
      expect(r.status).toBe(status);
      expect(r.json).toMatchObject({ statusCode: status });
      if (code) expect(r.json.code).toBe(code);
      if (status === 401) expect(r.headers['www-authenticate']).toContain('Bearer');
      if (allow) expect(r.headers.allow).toBe(allow);
      expect(await state()).toEqual(before);
      expect(audited).toEqual([]);
      held(`admin: ${name}`, 1, `${status}${code ? ` \`${code}\`` : ''}; state unchanged`);
    });
  }

  it('reports every schema error at once, each with its JSON path', async () => {
    const before = await state();
    const r = await admin(p, 'POST', '/backends', { id: 'bad id!', weight: -1, colour: 'red' });
    expect(r.status).toBe(400);
    const paths = r.json.errors!.map((e) => e.path).sort();
    expect(paths).toEqual(['/colour', '/id', '/url', '/weight']);
    expect(r.json.errors!.find((e) => e.path === '/colour')!.message).toBe('unknown field');
    expect(await state()).toEqual(before);
    held('admin: four schema errors in one body', 1, '400 with all four JSON paths; state unchanged');
  });

  it('an origin already held, under another id → 409 conflict at /url; the same twice at start-up starts nothing', async () => {
    const before = await state();
    const r = await admin(p, 'POST', '/backends', { id: 'twin', url: rs[0].url });
    expect(r.status).toBe(409);
    expect(r.json).toMatchObject({ code: 'conflict' });
    expect(r.text).toContain(`backend s1 already has origin ${rs[0].url}`);
    expect(await state()).toEqual(before);
    expect(audited).toEqual([]);
    await expect(startProxy({ backends: [{ url: rs[0].url }, { url: `${rs[0].url}/` }], admin: false }))
      .rejects.toThrow(`backend 2 (${rs[0].url}/): backend s1 already has origin ${rs[0].url}`);
    held('admin: a second backend with an origin already held', 1, '409 `conflict`; state unchanged');
  });

  it('an allow-listed host is accepted (the check is not a blanket refusal), and audited', async () => {
    const r = await admin(p, 'POST', '/backends', { id: 'remote', url: 'http://10.0.0.7:80' });
    expect(r.status).toBe(201);
    expect(audited).toMatchObject([{ action: 'add', id: 'remote' }]);
    expect((await admin(p, 'DELETE', '/backends/remote')).status).toBe(200);
    audited.length = 0;
  });

  it('the data port never runs admin routes: they are proxied to a backend like any path', async () => {
    const r = await send(`${p.url}/backends/s1/down`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toMatchObject({ method: 'POST', path: '/backends/s1/down' }); // the replica's echo
    expect(JSON.parse((await state()).backends).backends.map((b: { state: string }) => b.state)).toEqual(['up', 'up', 'up']);
    held('admin route sent to the data port', 1, 'proxied to a backend; admin state unchanged');
  });
});
