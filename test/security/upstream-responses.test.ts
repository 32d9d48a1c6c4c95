// What a client receives when a backend misbehaves: a raw `node:net` backend writes exact
// bytes, hop-by-hop response headers among them (S4) or outright garbage (B7). Hop-by-hop
// headers never reach the client; garbage becomes a 502 `upstream_reset` (or a cut
// connection once headers were relayed), counts against the backend, and is retried only
// where the core's reset rule allows it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningProxy } from '../../live/proxy/start.ts';
import { admin, proxy, send } from '../live/helpers.ts';
import { exchange, held, printHeldRows, req } from './helpers.ts';
import { type Answer, type RawBackend, okAnswer, rawBackend } from './raw-backend.ts';

const HOP_RESPONSE = ['HTTP/1.1 200 OK', 'Connection: X-Internal', 'X-Internal: 1', 'Keep-Alive: timeout=5', 'Proxy-Authenticate: Basic realm="x"',
  'Proxy-Connection: keep-alive', 'Upgrade: h2c', 'HTTP2-Settings: AAMAAABk', 'Trailer: X-T', 'X-Kept: yes', 'Transfer-Encoding: chunked',
  '', '2\r\nhi\r\n0\r\nX-T: secret-trailer\r\n\r\n'].join('\r\n');

/** Garbage answers (B7), by request path; every one closes the connection after it. */
const JUNK: Record<string, { what: string; bytes: string | 'destroy' }> = {
  '/hello': { what: '`HELLO\\r\\n\\r\\n` (no status line)', bytes: 'HELLO\r\n\r\n' },
  '/status-999': { what: 'status 999', bytes: 'HTTP/1.1 999 Weird\r\ncontent-length: 2\r\n\r\nhi' },
  '/status-600': { what: 'status 600', bytes: 'HTTP/1.1 600 Weird\r\ncontent-length: 2\r\n\r\nhi' },
  '/status-000': { what: 'status 000', bytes: 'HTTP/1.1 000 Weird\r\ncontent-length: 2\r\n\r\nhi' },
  '/cr-in-header': { what: 'bare CR in a header value', bytes: 'HTTP/1.1 200 OK\r\nX-Bad: a\rb\r\ncontent-length: 2\r\n\r\nhi' },
  '/lf-in-header': { what: 'bare LF in a header value (a second header smuggled)', bytes: 'HTTP/1.1 200 OK\r\nX-Bad: a\nSet-Cookie: injected=1\r\ncontent-length: 2\r\n\r\nhi' },
  '/nul-in-header': { what: 'NUL in a header value', bytes: 'HTTP/1.1 200 OK\r\nX-Bad: a\0b\r\ncontent-length: 2\r\n\r\nhi' },
  '/cl-and-te': { what: 'Content-Length and chunked', bytes: 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n' },
  '/two-cl': { what: 'two different Content-Length', bytes: 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 5\r\n\r\nhi' },
  '/te-gzip-chunked': { what: '`Transfer-Encoding: gzip, chunked`', bytes: 'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n' },
  '/te-chunked-gzip': { what: '`Transfer-Encoding: chunked, gzip` (close-delimited)', bytes: 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked, gzip\r\n\r\nhi' },
  '/te-identity': { what: '`Transfer-Encoding: identity`', bytes: 'HTTP/1.1 200 OK\r\ntransfer-encoding: identity\r\n\r\nhi' },
  '/end-no-bytes': { what: 'FIN with no bytes', bytes: '' },
  '/reset-no-bytes': { what: 'close with no bytes (destroy)', bytes: 'destroy' },
};
const SHORT_BODY = 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly-some';

function answer(target: string): Answer {
  const path = target.split('?')[0];
  if (path === '/hop') return { bytes: HOP_RESPONSE };
  if (path === '/hop-cl') return okAnswer('hello', ['Connection: keep-alive, X-Internal, Set-Cookie', 'X-Internal: 1', 'Set-Cookie: a=1', 'Proxy-Authenticate: Basic', 'X-Kept: yes']);
  if (path === '/short-body') return { bytes: SHORT_BODY, close: true };
  const junk = JUNK[path];
  if (!junk) return okAnswer(`ok ${path}`);
  return junk.bytes === 'destroy' ? 'destroy' : { bytes: junk.bytes, close: true };
}

const opened: RawBackend[] = [];
/** A backend answering by path (`answer`); `plain` ones answer 200 `ok` to everything. */
async function openBackend(kind: 'by-path' | 'plain' = 'by-path'): Promise<RawBackend> {
  const b = await rawBackend(kind === 'plain' ? undefined : (r) => answer(r.target));
  opened.push(b);
  return b;
}
afterAll(async () => {
  await Promise.all(opened.map((b) => b.close()));
  printHeldRows();
});

/** Head of the first response in `text`: status and lower-cased header lines. */
function responseHead(text: string): { status: number; headers: Array<[string, string]>; body: string } {
  const end = text.indexOf('\r\n\r\n');
  const [line, ...lines] = text.slice(0, end).split('\r\n');
  return {
    status: Number(line.split(' ')[1]),
    headers: lines.map((l): [string, string] => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
    body: text.slice(end + 4),
  };
}

/** Attempts and failures the proxy counted for backend `id` (admin API). */
async function statsOf(p: RunningProxy, id: string): Promise<{ attempts: number; failures: number }> {
  const r = await admin(p, 'GET', `/backends/${id}`);
  return (r.json as unknown as { stats: { attempts: number; failures: number } }).stats;
}

// Outlier ejection is kept out of the way here (its own test is below), so every case meets the same backend.
const NO_EJECTION = { retry: { budget: {} }, health: { active: { intervalMs: 2_000, timeoutMs: 1_000 }, outlier: { consecutiveFailures: 1_000 } } };

describe('S4: hop-by-hop response headers stay on the backend hop', () => {
  let b: RawBackend;
  let p: RunningProxy;
  beforeAll(async () => {
    b = await openBackend();
    p = await proxy({ backends: [{ id: 'raw', url: b.url }], routing: NO_EJECTION });
  });

  it('Connection-named, Keep-Alive, Proxy-Authenticate, Upgrade, Trailer, Transfer-Encoding and the trailer itself are dropped', async () => {
    const ex = await exchange(Number(new URL(p.url).port), req(['GET /hop HTTP/1.1', 'Host: a', 'Connection: close']));
    const head = responseHead(ex.text);
    expect(head.status).toBe(200);
    const names = head.headers.map(([n]) => n);
    for (const h of ['x-internal', 'keep-alive', 'proxy-authenticate', 'proxy-connection', 'upgrade', 'http2-settings', 'trailer']) expect(names, h).not.toContain(h);
    expect(head.headers).toContainEqual(['x-kept', 'yes']);
    // The client's framing is the proxy's own: one chunked body, no trailer relayed.
    expect(head.headers.filter(([n]) => n === 'transfer-encoding' || n === 'content-length')).toEqual([['transfer-encoding', 'chunked']]);
    expect(head.headers.filter(([n]) => n === 'connection')).toEqual([['connection', 'close']]);
    expect(head.body).toBe('2\r\nhi\r\n0\r\n\r\n');
    expect(ex.text).not.toContain('secret-trailer');
    held('S4 response: `Connection: X-Internal`, X-Internal, Keep-Alive, Proxy-Authenticate, Proxy-Connection, Upgrade, HTTP2-Settings, Trailer + a trailer, chunked', 1,
      '200; client got none of them, one chunked body of its own, no trailer');
  });

  it('Connection naming Set-Cookie strips it too; the Content-Length answer keeps its one length', async () => {
    const r = await send(`${p.url}/hop-cl`);
    expect(r.status).toBe(200);
    expect(r.text).toBe('hello');
    for (const h of ['x-internal', 'set-cookie', 'proxy-authenticate']) expect(r.headers[h], h).toBeUndefined();
    expect(r.headers['x-kept']).toBe('yes');
    expect(r.headers['content-length']).toBe('5');
    expect(r.headers['transfer-encoding']).toBeUndefined();
    held('S4 response: `Connection: keep-alive, X-Internal, Set-Cookie` with both, Proxy-Authenticate, Content-Length', 1,
      '200; client got neither named header, one Content-Length');
  });
});

describe('B7: garbage from a backend', () => {
  let junk: RawBackend;
  let p: RunningProxy;
  let port: number;
  beforeAll(async () => {
    junk = await openBackend();
    p = await proxy({ backends: [{ id: 'junk', url: junk.url }], routing: NO_EJECTION });
    port = Number(new URL(p.url).port);
  });

  for (const [path, { what }] of Object.entries(JUNK)) {
    it(`${what} → 502 upstream_reset, one failure counted, proxy keeps serving`, async () => {
      for (const method of ['GET', 'POST']) {
        const before = await statsOf(p, 'junk');
        const from = junk.requests.length;
        const ex = await exchange(port, req([`${method} ${path} HTTP/1.1`, 'Host: a', 'Connection: close', 'Content-Length: 2'], 'hi'));
        expect(ex.statuses, method).toEqual([502]);
        expect(ex.codes).toEqual(['upstream_reset']);
        expect(ex.text).toContain('x-fulcrum-attempts: junk\r\n'); // one attempt: nothing else to retry on
        expect(ex.text).not.toMatch(/injected|\r\nhi$/); // nothing of the junk reached the client
        expect(junk.requests.slice(from).map((r) => `${r.line.split(' ')[0]} ${r.target}`)).toEqual([`${method} ${path}`]);
        const after = await statsOf(p, 'junk');
        expect(after.attempts - before.attempts).toBe(1);
        expect(after.failures - before.failures).toBe(1);
      }
      const ok = await send(`${p.url}/ok`);
      expect(ok.status).toBe(200);
      expect(ok.text).toBe('ok /ok');
      held(`B7 backend answers ${what}; GET and POST`, 3, '502 `upstream_reset`; one failure counted per request; next request 200');
    });
  }

  it('Content-Length larger than the body, then close → headers relayed, then the client connection is cut; a failure, not retried', async () => {
    const before = await statsOf(p, 'junk');
    const ex = await exchange(port, req(['GET /short-body HTTP/1.1', 'Host: a', 'Connection: close']));
    expect(ex.statuses).toEqual([200]); // the head went out before the body fell short
    expect(ex.closedByServer).toBe(true);
    const head = responseHead(ex.text);
    expect(head.headers).toContainEqual(['content-length', '100']);
    expect(head.body).toBe('only-some'); // 9 of the promised 100 bytes: visibly truncated, never "complete"
    const after = await statsOf(p, 'junk');
    expect([after.attempts - before.attempts, after.failures - before.failures]).toEqual([1, 1]);
    expect((await send(`${p.url}/ok`)).status).toBe(200);
    held('B7 backend promises Content-Length 100, sends 9 bytes and closes', 2, 'head relayed, then the client connection cut at 9 bytes; one failure; next request 200');
  });
});

// The rule that applies (core/retry.ts): an answer the proxy cannot relay is handled as a
// reset before any response byte was passed on. The request may have reached the backend,
// so it is retried on another backend only when idempotent with a replayable body (GET yes,
// POST never); no backend is tried twice.
describe('B7: retries and ejection for junk follow the reset rule', () => {
  it('GET junk is retried once on the other backend (200); POST junk is not (502)', async () => {
    const [junk, good] = [await openBackend(), await openBackend('plain')];
    const p = await proxy({ backends: [{ id: 'junk', url: junk.url }, { id: 'good', url: good.url }], policy: 'round-robin', routing: NO_EJECTION });
    const paths: Record<string, string[]> = { GET: [], POST: [] };
    for (const method of ['GET', 'POST']) {
      for (let i = 0; i < 4; i++) {
        const r = await send(`${p.url}/status-999?m=${method}&i=${i}`, { method, body: method === 'POST' ? 'hi' : undefined });
        const path = String(r.headers['x-fulcrum-attempts']);
        paths[method].push(path);
        if (path === 'good') expect(r.status).toBe(200);
        else if (method === 'GET') expect([path, r.status, r.text]).toEqual(['junk|good', 200, 'ok']);
        else expect([path, r.status, r.headers['x-fulcrum-error']]).toEqual(['junk', 502, 'upstream_reset']);
      }
    }
    // Round-robin alternates, so both kinds of path occur for each method.
    expect(new Set(paths.GET)).toEqual(new Set(['good', 'junk|good']));
    expect(new Set(paths.POST)).toEqual(new Set(['good', 'junk']));
    // Each request reached the junk backend at most once; a POST it got never went anywhere else.
    const count = (b: RawBackend, m: string) => b.requests.filter((r) => r.line.startsWith(`${m} `)).length;
    expect(count(junk, 'GET')).toBe(paths.GET.filter((x) => x === 'junk|good').length);
    expect(count(good, 'GET')).toBe(4);
    expect(count(junk, 'POST')).toBe(paths.POST.filter((x) => x === 'junk').length);
    expect(count(good, 'POST')).toBe(paths.POST.filter((x) => x === 'good').length);
    held('B7 junk (status 999) with a good backend beside it, round-robin: 4 GETs, 4 POSTs', 8,
      'GET: 200, retried once on the other backend; POST: 502, not retried');
  });

  it('junk counts toward outlier ejection: 3 consecutive → the backend is ejected, requests go to the other', async () => {
    const [junk, good] = [await openBackend(), await openBackend('plain')];
    const p = await proxy({
      backends: [{ id: 'junk', url: junk.url }, { id: 'good', url: good.url }], policy: 'round-robin',
      routing: { retry: { budget: {} }, health: { active: { intervalMs: 2_000, timeoutMs: 1_000 }, outlier: { consecutiveFailures: 3, baseEjectionMs: 60_000 } } },
    });
    let sent = 0;
    while (junk.requests.length < 3 && sent < 12) { await send(`${p.url}/hello`, { method: 'POST', body: 'x' }); sent++; }
    expect(junk.requests).toHaveLength(3);
    const view = (await admin(p, 'GET', '/backends/junk')).json as unknown as { state: string; timesEjected: number };
    expect([view.state, view.timesEjected]).toEqual(['ejected', 1]);
    for (let i = 0; i < 4; i++) {
      const r = await send(`${p.url}/after-ejection`, { method: 'POST', body: 'x' });
      expect([r.status, r.headers['x-fulcrum-attempts']]).toEqual([200, 'good']);
    }
    expect(junk.requests).toHaveLength(3);
    held('B7 `HELLO` junk on POSTs, outlier threshold 3', sent + 4, 'backend ejected after its 3rd junk answer; the next 4 all on the other backend');
  });
});
