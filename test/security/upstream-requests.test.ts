// What a backend actually receives: a raw `node:net` backend records the bytes of every
// proxied request. Framing (exactly one Content-Length or chunked, never both), hop-by-hop
// headers (none reach it; the proxy's own X-Forwarded-For does), request targets (passed
// on byte for byte, never to another origin) and backends whose ports share digits (each
// request reaches exactly the backend it was pinned to).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningProxy } from '../../live/proxy/start.ts';
import { admin, proxy, send } from '../live/helpers.ts';
import { exchange, held, printHeldRows, req } from './helpers.ts';
import { type CapturedRequest, type RawBackend, headerValues, rawBackend } from './raw-backend.ts';

const opened: RawBackend[] = [];
let backend: RawBackend;
let p: RunningProxy;
let port: number;

async function openBackend(...args: Parameters<typeof rawBackend>): Promise<RawBackend> {
  const b = await rawBackend(...args);
  opened.push(b);
  return b;
}

beforeAll(async () => {
  backend = await openBackend();
  p = await proxy({ backends: [{ id: 'raw', url: backend.url }], admin: false });
  port = Number(new URL(p.url).port);
});
afterAll(async () => {
  await Promise.all(opened.map((b) => b.close()));
  printHeldRows();
});

/**
 * Sends `payload` on its own connection and returns the one request the backend got for it
 * (asserting there was exactly one) and the client's statuses.
 */
async function through(payload: string | string[], b = backend, proxyPort = port): Promise<{ got: CapturedRequest; statuses: number[]; text: string }> {
  const from = b.requests.length;
  const ex = await exchange(proxyPort, payload, { timeoutMs: 5_000 });
  expect(ex.closedByServer).toBe(true);
  const got = b.requests.slice(from);
  expect(got).toHaveLength(1);
  return { got: got[0], statuses: ex.statuses, text: ex.text };
}

/** The proxy keeps serving: a plain GET right after a case. */
async function stillServes(tag: string): Promise<void> {
  const r = await send(`${p.url}/after-${tag}`);
  expect(r.status).toBe(200);
  expect(backend.requests.at(-1)!.target).toBe(`/after-${tag}`);
}

const BIG = 100_000; // over the 64 KiB replay buffer: streamed, not buffered
const chunkedBody = (...parts: string[]) => parts.map((s) => `${s.length.toString(16)}\r\n${s}\r\n`).join('') + '0\r\n\r\n';

describe('S3: the backend sees exactly one framing header', () => {
  const post = (headers: string[], body: string, method = 'POST') => req([`${method} /upload HTTP/1.1`, 'Host: a', 'Connection: close', ...headers], body);
  const cases: Array<{ name: string; payload: string; body: string; framing: 'content-length' | 'chunked' | 'none'; contentLength?: string }> = [
    { name: 'POST, Content-Length 5', payload: post(['Content-Length: 5'], 'hello'), body: 'hello', framing: 'content-length', contentLength: '5' },
    { name: 'POST, chunked (small: buffered, sent with its length)', payload: post(['Transfer-Encoding: chunked'], chunkedBody('hel', 'lo')), body: 'hello', framing: 'content-length', contentLength: '5' },
    { name: `POST, Content-Length ${BIG} (streamed)`, payload: post([`Content-Length: ${BIG}`], 'b'.repeat(BIG)), body: 'b'.repeat(BIG), framing: 'content-length', contentLength: String(BIG) },
    { name: `POST, chunked ${BIG} bytes (streamed, length unknown)`, payload: post(['Transfer-Encoding: chunked'], chunkedBody('c'.repeat(BIG / 2), 'd'.repeat(BIG / 2))), body: 'c'.repeat(BIG / 2) + 'd'.repeat(BIG / 2), framing: 'chunked' },
    { name: 'POST, Content-Length 0', payload: post(['Content-Length: 0'], ''), body: '', framing: 'content-length', contentLength: '0' },
    { name: 'POST, chunked with no data', payload: post(['Transfer-Encoding: chunked'], '0\r\n\r\n'), body: '', framing: 'content-length', contentLength: '0' },
    { name: 'POST, no body and no framing header', payload: post([], ''), body: '', framing: 'content-length', contentLength: '0' },
    { name: 'GET, no body', payload: post([], '', 'GET'), body: '', framing: 'none' },
    { name: 'GET, Content-Length 5', payload: post(['Content-Length: 5'], 'hello', 'GET'), body: 'hello', framing: 'content-length', contentLength: '5' },
  ];
  for (const [i, c] of cases.entries()) {
    it(`${c.name} → ${c.framing}${c.contentLength ? ` ${c.contentLength}` : ''}`, async () => {
      const { got, statuses } = await through(c.payload);
      expect(statuses).toEqual([200]);
      const lengths = headerValues(got, 'content-length');
      const codings = headerValues(got, 'transfer-encoding');
      expect(lengths.length + codings.length).toBeLessThanOrEqual(1); // never both, never twice
      if (c.framing === 'content-length') expect(lengths).toEqual([c.contentLength]);
      if (c.framing === 'chunked') expect(codings).toEqual(['chunked']);
      if (c.framing === 'none') expect([...lengths, ...codings]).toEqual([]);
      expect(got.body.toString('latin1')).toBe(c.body);
      await stillServes(`s3-${i}`);
      held(`S3 framing upstream: ${c.name}`, 2, `200; backend saw ${c.framing === 'none' ? 'no framing header' : c.framing === 'chunked' ? 'only `chunked`' : `only \`Content-Length: ${c.contentLength}\``}`);
    });
  }
});

describe('S4: hop-by-hop request headers stay on the client hop', () => {
  const HOP = ['X-Secret: 1', 'Keep-Alive: timeout=5', 'TE: gzip', 'Upgrade: h2c', 'Proxy-Connection: keep-alive',
    'Proxy-Authorization: Basic Zm9vOmJhcg==', 'HTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA', 'Trailer: X-T'];
  const STRIPPED = ['x-secret', 'keep-alive', 'te', 'upgrade', 'proxy-connection', 'proxy-authorization', 'http2-settings', 'trailer'];

  it('Connection-named, Keep-Alive, TE, Upgrade, Proxy-* and forged X-Forwarded-For never reach the backend; the proxy\'s XFF does', async () => {
    const { got, statuses } = await through(req(['GET /hop HTTP/1.1', 'Host: a', 'Connection: close, X-Forwarded-For, X-Secret',
      ...HOP, 'X-Forwarded-For: 6.6.6.6', 'X-Kept: yes']));
    expect(statuses).toEqual([200]);
    const names = got.headers.map(([n]) => n.toLowerCase());
    for (const h of STRIPPED) expect(names, h).not.toContain(h);
    // Naming X-Forwarded-For in Connection must not remove the proxy's own: exactly one, the socket peer.
    expect(headerValues(got, 'x-forwarded-for')).toEqual(['127.0.0.1']);
    expect(headerValues(got, 'x-kept')).toEqual(['yes']);
    // The only Connection header upstream is undici's own, naming no client header.
    expect(headerValues(got, 'connection').map((v) => v.toLowerCase())).toEqual(['keep-alive']);
    await stillServes('s4-request');
    held('S4 request: `Connection: close, X-Forwarded-For, X-Secret`, X-Secret, Keep-Alive, `TE: gzip`, `Upgrade: h2c`, Proxy-Connection, Proxy-Authorization, HTTP2-Settings, Trailer, forged XFF', 2,
      '200; backend saw none of them, one X-Forwarded-For (the socket peer)');
  });

  // The proxy does not relay trailers (a response body is piped without them), so it cannot
  // promise the backend that the client accepts them: `TE: trailers` is dropped too.
  it('TE: trailers is not passed on either (the proxy relays no trailers)', async () => {
    const { got, statuses } = await through(req(['GET /te HTTP/1.1', 'Host: a', 'Connection: close', 'TE: trailers']));
    expect(statuses).toEqual([200]);
    expect(headerValues(got, 'te')).toEqual([]);
    await stillServes('s4-te');
    held('S4 request: `TE: trailers`', 2, '200; backend saw no TE (the proxy relays no trailers)');
  });
});

describe('S7: request targets are passed on byte for byte, to the configured backend only', () => {
  let decoy: RawBackend; // stands in for "another origin": must never see a connection
  beforeAll(async () => { decoy = await openBackend(undefined, { host: '127.0.0.2' }); });

  const targets = () => [
    '/..%2f..%2fadmin', '/%2e%2e/x', '/%2E%2E/%2e%2e/etc/passwd', '/../x', '/a/../../b', '/a/..;/b', '/a/;..;/b',
    '//evil.example/x', `//${decoy.url.slice('http://'.length)}/x`, '///x', '/%00', '/a%00b', '/a/%2f%2f/b?c=../../d',
    '/%5c..%5cwin', `/${'p'.repeat(8_000)}`,
  ];
  it('15 traversal and base-escape targets: each 200 with exactly that target at the backend, nothing at another origin', async () => {
    const list = targets();
    for (const target of list) {
      const { got, statuses } = await through(req([`GET ${target} HTTP/1.1`, 'Host: a', 'Connection: close']));
      expect(statuses, target.slice(0, 80)).toEqual([200]);
      expect(got.line).toBe(`GET ${target} HTTP/1.1`);
      expect(headerValues(got, 'host')).toEqual([backend.url.slice('http://'.length)]); // the configured origin, not the client's Host
    }
    expect(decoy.connections).toBe(0);
    expect(decoy.requests).toEqual([]);
    await stillServes('s7');
    held('S7 targets `/..%2f..%2fadmin`, `/%2e%2e/x`, `/../x`, `/a/..;/b`, `//evil.example/x`, `//127.0.0.2:P/x`, `/%00`, `/%5c..%5c`, an 8 kB path and 6 more', list.length + 1,
      '200; the backend got each target byte for byte; the other origin got no connection');
  });

  // Node's parser refuses a target without its leading slash (`bad_request`); the proxy
  // refuses bad percent-encoding and a fragment (`bad_target`; HAProxy CVE-2023-45539:
  // `/index.html#.png` meant different files to different hops).
  it('a target without its slash, with bad percent-encoding or with a fragment → 400; nothing forwarded', async () => {
    const cases: Array<[string, string]> = [['1/private', 'bad_request'], ['evil.example/x', 'bad_request'],
      ['/%zz', 'bad_target'], ['/a%', 'bad_target'], ['/index.html#.png', 'bad_target'], ['/a?b#c', 'bad_target']];
    for (const [target, code] of cases) {
      const from = backend.requests.length;
      const ex = await exchange(port, req([`GET ${target} HTTP/1.1`, 'Host: a']));
      expect(ex.statuses, target).toEqual([400]);
      expect(ex.codes, target).toEqual([code]);
      expect(ex.closedByServer).toBe(true);
      expect(backend.requests.slice(from)).toEqual([]);
    }
    await stillServes('s7-bad');
    held('S7 targets `1/private`, `evil.example/x`; `/%zz`, `/a%`; fragments `/index.html#.png`, `/a?b#c`', cases.length + 1,
      '400 `bad_request`; 400 `bad_target`; backend saw nothing');
  });
});

describe('S8: backends whose ports share leading digits', () => {
  /** A free port P (4 digits) and a free port 10·P + d: the second's decimal form starts with the first's. */
  async function prefixPair(): Promise<[RawBackend, RawBackend]> {
    for (let short = 3100; short < 6500; short += 37) {
      let a: RawBackend;
      try { a = await rawBackend(undefined, { port: short }); } catch { continue; }
      for (let d = 0; d <= 9; d++) {
        try {
          const b = await rawBackend(undefined, { port: short * 10 + d });
          opened.push(a, b);
          return [a, b];
        } catch { /* taken: next digit */ }
      }
      await a.close();
    }
    throw new Error('no free port pair P, P·10+d between 3100 and 6500');
  }

  it('each request reaches exactly the backend it was pinned to', async () => {
    const [short, long] = await prefixPair();
    expect(String(long.port).startsWith(String(short.port))).toBe(true);
    // Ids collide by prefix too (s3100 / s31001).
    const ids = [`s${short.port}`, `s${long.port}`];
    const pp = await proxy({ backends: [{ id: ids[0], url: short.url }, { id: ids[1], url: long.url }] });
    const paths = ['/private', '/1/private', `/${String(long.port).slice(String(short.port).length)}/private`, '/'];
    let sent = 0;
    for (const [pin, other] of [[0, 1], [1, 0]]) {
      expect((await admin(pp, 'POST', `/backends/${ids[other]}/down`)).status).toBe(200);
      expect((await admin(pp, 'POST', `/backends/${ids[pin]}/up`)).status).toBe(200);
      const target = [short, long][pin];
      const from = [short.requests.length, long.requests.length];
      for (let i = 0; i < 5; i++) {
        for (const path of paths) {
          const r = await send(`${pp.url}${path}`);
          sent++;
          expect(r.status).toBe(200);
          expect(r.headers['x-fulcrum-attempts']).toBe(ids[pin]);
        }
      }
      expect(target.requests.slice(from[pin]).map((r) => r.target)).toEqual(Array(5).fill(paths).flat());
      expect([short, long][other].requests.length).toBe(from[other]);
    }
    held(`S8 backends on ports P and P·10+d (here ${short.port} and ${long.port}, ids alike), each pinned in turn via admin \`down\`; paths \`/private\`, \`/1/private\``, sent,
      'every request on the pinned backend, none on the other');
  });
});
