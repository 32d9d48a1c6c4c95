// Issue 14: what public smuggling and conformance suites still found, one regression test per
// finding, on real sockets: upgrades and pipelining, a backend that is the proxy itself,
// junk and interim answers from backends, non-HTTP request lines, headers that look like
// framing. (Finding 7, clients waiting the whole deadline on a stopped replica, is a
// reliability scenario: test/reliability/process-faults.test.ts.)
import { type Server, type Socket, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, type RunningProxy } from '../../live/proxy/start.ts';
import { admin, proxy, send, waitFor } from '../live/helpers.ts';
import { exchange, held, printHeldRows, req } from './helpers.ts';
import { type Answer, type RawBackend, headerValues, okAnswer, rawBackend } from './raw-backend.ts';

const opened: Array<{ close(): Promise<void> }> = [];
async function openBackend(answer?: Parameters<typeof rawBackend>[0], o?: Parameters<typeof rawBackend>[1]): Promise<RawBackend> {
  const b = await rawBackend(answer, o);
  opened.push(b);
  return b;
}
afterAll(async () => {
  await Promise.all(opened.map((b) => b.close()));
  printHeldRows();
});

const portOf = (p: RunningProxy) => Number(new URL(p.url).port);
const NO_EJECTION = { retry: { budget: {} }, health: { active: { intervalMs: 2_000, timeoutMs: 1_000 }, outlier: { consecutiveFailures: 1_000 } } };

async function statsOf(p: RunningProxy, id: string): Promise<{ attempts: number; failures: number }> {
  return ((await admin(p, 'GET', `/backends/${id}`)).json as unknown as { stats: { attempts: number; failures: number } }).stats;
}

/** A free port: listened on, then released. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * A WebSocket-like backend: answers an Upgrade request with 101, then echoes every byte it
 * gets after the request head prefixed with `echo:`, and records what it received.
 */
async function upgradeBackend(): Promise<{ url: string; received: () => string; upgradedOpen: () => number; close(): Promise<void> }> {
  const upgraded: string[] = []; // the bytes of each upgraded connection (health checks left out)
  const tunnels = new Set<Socket>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let head = '';
    let slot = -1;
    socket.setEncoding('latin1').on('data', (d: string) => {
      if (slot >= 0) { upgraded[slot] += d; socket.write(`echo:${d}`); return; }
      head += d;
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (head.startsWith('GET /heartbeat')) { socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok'); return; }
      slot = upgraded.push(head) - 1;
      tunnels.add(socket);
      socket.on('close', () => tunnels.delete(socket));
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
      const rest = head.slice(end + 4);
      if (rest) socket.write(`echo:${rest}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const b = {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    received: () => upgraded.join(''),
    upgradedOpen: () => tunnels.size,
    close: () => new Promise<void>((done) => { for (const s of sockets) s.destroy(); server.close(() => done()); }),
  };
  opened.push(b);
  return b;
}

const UPGRADE_FIRST = req(['GET /first HTTP/1.1', 'Host: a', 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==']);

describe('finding 1: an Upgrade request with requests pipelined behind it', () => {
  it('backend declines (200): its answer is relayed, the connection closes, nothing pipelined is forwarded or answered wrongly', async () => {
    const b = await openBackend();
    const p = await proxy({ backends: [{ id: 'raw', url: b.url }], admin: false });
    for (const upgrade of ['websocket', 'h2c']) {
      const from = b.requests.length;
      const first = UPGRADE_FIRST.replace('Upgrade: websocket', `Upgrade: ${upgrade}`);
      const ex = await exchange(portOf(p), [first + req(['GET /second HTTP/1.1', 'Host: a']), req(['GET /third HTTP/1.1', 'Host: a'])], { gapMs: 50 });
      expect(ex.closedByServer).toBe(true);
      expect(ex.statuses, upgrade).toEqual([200]); // /first's answer, and no answer that /second could be mistaken for
      expect(ex.text).toContain('\r\n\r\nok');
      const got = b.requests.slice(from);
      expect(got.map((r) => r.target)).toEqual(['/first']);
      expect(headerValues(got[0], 'upgrade')).toEqual([upgrade]); // the backend could have accepted it
    }
    held('Upgrade (websocket, h2c) + pipelined `/second`, then `/third`; backend declines with 200', 6,
      '`/first` answered, then the connection closed: `/second` and `/third` neither forwarded nor answered by a wrong response');
  });

  it('backend accepts (101): the pipelined bytes reach it after the switch, and its bytes reach the client', async () => {
    const b = await upgradeBackend();
    const p = await proxy({ backends: [{ id: 'ws', url: b.url }], admin: false });
    const ex = await exchange(portOf(p), [UPGRADE_FIRST + 'frame-1', 'frame-2'], { gapMs: 100, timeoutMs: 1_500 });
    expect(ex.text.startsWith('HTTP/1.1 101 Switching Protocols\r\n')).toBe(true);
    expect(ex.text).toContain('echo:frame-1');
    expect(ex.text).toContain('echo:frame-2');
    expect(b.received()).toMatch(/^GET \/first HTTP\/1\.1\r\n/);
    expect(b.received()).toMatch(/\r\nupgrade: websocket\r\n/);
    expect(b.received()).toMatch(/\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n/);
    expect(b.received(), JSON.stringify(ex.text)).toMatch(/\r\n\r\nframe-1frame-2$/);
    held('WebSocket Upgrade with a frame pipelined behind it; backend answers 101 and echoes', 1,
      '101 relayed; the held frame and the next one reach the backend in order; its bytes reach the client');
  });

  it('an idle tunnel is closed after the keep-alive timeout, and the backend connection with it', async () => {
    const b = await upgradeBackend();
    const p = await proxy({ backends: [{ id: 'ws', url: b.url }], admin: false, limits: { keepAliveTimeoutMs: 300 } });
    const ex = await exchange(portOf(p), UPGRADE_FIRST + 'frame-1', { timeoutMs: 5_000 });
    expect(ex.text.startsWith('HTTP/1.1 101 ')).toBe(true);
    expect(ex.closedByServer).toBe(true);
    expect(ex.ms).toBeLessThan(3_000); // closed by the proxy's idle timer, not by our 5 s give-up
    await waitFor('the backend side of the tunnel to close', () => b.upgradedOpen() === 0, 2_000);
  });

  it('an Upgrade request with a body is refused (400), the backend sees nothing', async () => {
    const b = await openBackend();
    const p = await proxy({ backends: [{ id: 'raw', url: b.url }], admin: false });
    const ex = await exchange(portOf(p), req(['POST /up HTTP/1.1', 'Host: a', 'Connection: Upgrade', 'Upgrade: h2c', 'Content-Length: 4'], 'abcd'));
    expect([ex.statuses, ex.codes, ex.closedByServer]).toEqual([[400], ['bad_framing'], true]);
    expect(b.requests).toHaveLength(0);
  });
});

describe('finding 2: a backend that is the proxy itself', () => {
  it('--backend naming the proxy\'s own data or admin port (any loopback spelling) is refused at start', async () => {
    const b = await openBackend();
    const [dataPort, adminPort] = [await freePort(), await freePort()];
    for (const url of [`http://127.0.0.1:${dataPort}`, `http://localhost:${dataPort}`, `http://127.0.0.2:${dataPort}`, `http://[::1]:${adminPort}`, `http://0.0.0.0:${adminPort}`]) {
      await expect(proxy({ backends: [{ url: b.url }, { url }], listen: { port: dataPort }, admin: { port: adminPort } }), url)
        .rejects.toThrow(ConfigError);
    }
    await expect(proxy({ backends: [{ url: `http://127.0.0.1:${dataPort}` }], listen: { port: dataPort }, admin: false }))
      .rejects.toThrow(/this proxy's own listener 127\.0\.0\.1:\d+/);
  });

  it('the admin API refuses the proxy\'s own ports; DNS discovery does not add them', async () => {
    const b = await openBackend();
    const dataPort = await freePort();
    const p = await proxy({
      backends: [{ id: 'raw', url: b.url }], listen: { port: dataPort },
      discovery: { targets: [{ host: 'self.test', port: dataPort }], intervalMs: 60_000, resolve: async () => ['127.0.0.1'] },
    });
    const adminPort = Number(new URL(p.adminUrl!).port);
    for (const url of [`http://127.0.0.1:${dataPort}`, `http://localhost:${adminPort}`, `http://127.0.0.1:${adminPort}`]) {
      const r = await admin(p, 'POST', '/backends', { url });
      expect(r.status, url).toBe(400);
      expect(r.text).toContain('own listener');
    }
    expect(p.balancer.ids()).toEqual(['raw']);
    expect(p.events.list().some((e) => e.kind === 'discovery-failed' && String((e as { error: string }).error).includes('own listener'))).toBe(true);
    held('backend = the proxy\'s own data/admin port: --backend (5 spellings), admin API (3), DNS discovery', 9, 'refused: start fails, admin 400, discovery logs `not added`');
  });

  it('a loop the addresses cannot show (A → B → A) stops at the first return: 508 `loop_detected`, counted', async () => {
    const b = await openBackend();
    const a = await proxy({ backends: [{ id: 'raw', url: b.url }], routing: NO_EJECTION });
    const c = await proxy({ backends: [{ id: 'a', url: a.url }], routing: NO_EJECTION });
    // Now A's only backend is C, whose only backend is A.
    expect((await admin(a, 'POST', '/backends', { id: 'c', url: c.url })).status).toBe(201);
    expect((await admin(a, 'DELETE', '/backends/raw')).status).toBeLessThan(300);
    await waitFor('raw removed', () => !a.balancer.ids().includes('raw'));
    const r = await send(`${a.url}/loop`);
    expect(r.status).toBe(508);
    expect(r.headers['x-fulcrum-error']).toBe('loop_detected');
    expect([r.headers['x-fulcrum-attempts']].flat().at(-1)).toBe('c'); // A → C → A(508) → C relays → A relays (theirs come first)
    const metrics = (await admin(a, 'GET', '/metrics')).text;
    expect(metrics).toMatch(/^fulcrum_loops_detected_total 1$/m);
    // Nothing keeps running after the client has its answer.
    await waitFor('no request in flight', async () => /^fulcrum_in_flight_requests 0$/m.test((await admin(a, 'GET', '/metrics')).text));
    held('two proxies pointing at each other (A → C → A)', 1, '508 `loop_detected` on the first return; counted in fulcrum_loops_detected_total; nothing left in flight');
  });

  it('every forwarded request carries Via: 1.1 fulcrum-<id> after the client\'s own entries', async () => {
    const b = await openBackend();
    const p = await proxy({ backends: [{ id: 'raw', url: b.url }], admin: false });
    await send(`${p.url}/via`, { headers: { via: '1.0 corp-proxy' } });
    expect(headerValues(b.requests.at(-1)!, 'via')).toEqual([expect.stringMatching(/^1\.0 corp-proxy, 1\.1 fulcrum-[0-9a-f]{12}$/)]);
  });
});

describe('findings 3, 5, 6: what a backend answers', () => {
  const ANSWERS: Record<string, string> = {
    '/bare-cr-status': 'HTTP/1.1 200 OK\r\rContent-Length: 4\r\n\r\nEvil',
    '/continue': 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfinal',
    '/two-interim': 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfinal',
    '/204-stray': 'HTTP/1.1 204 No Content\r\ncontent-length: 4\r\n\r\nJUNK',
    '/204-stray-no-length': 'HTTP/1.1 204 No Content\r\n\r\nJUNK',
    '/304-stray': 'HTTP/1.1 304 Not Modified\r\ncontent-length: 4\r\netag: "x"\r\n\r\nJUNK',
    '/chunk-not-hex': 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
    '/chunk-overflow': 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nffffffffffffffffff\r\nhello\r\n0\r\n\r\n',
  };
  let b: RawBackend;
  let p: RunningProxy;
  beforeAll(async () => {
    b = await openBackend((r): Answer => (ANSWERS[r.target] ? { bytes: ANSWERS[r.target], close: true } : okAnswer()));
    p = await proxy({ backends: [{ id: 'raw', url: b.url }], routing: NO_EJECTION });
  });

  async function through(path: string) {
    const before = await statsOf(p, 'raw');
    const ex = await exchange(portOf(p), req([`GET ${path} HTTP/1.1`, 'Host: a', 'Connection: close']));
    const after = await statsOf(p, 'raw');
    return { ex, attempts: after.attempts - before.attempts, failures: after.failures - before.failures };
  }

  it('finding 3: a bare CR ending the status line → 502 `upstream_reset`, one failure counted, nothing relayed', async () => {
    const { ex, attempts, failures } = await through('/bare-cr-status');
    expect([ex.statuses, ex.codes, attempts, failures]).toEqual([[502], ['upstream_reset'], 1, 1]);
    expect(ex.text).not.toContain('Evil');
    held('backend status line `200 OK\\r\\r` (bare CR followed by CR)', 1, '502 `upstream_reset`; one failure counted');
  });

  it('finding 5: interim answers (100, 103) are dropped and the final answer relayed; not a failure', async () => {
    for (const path of ['/continue', '/two-interim']) {
      const { ex, attempts, failures } = await through(path);
      expect([ex.statuses, attempts, failures], path).toEqual([[200], 1, 0]);
      expect(ex.text.endsWith('\r\n\r\nfinal')).toBe(true);
    }
    held('backend sends `100 Continue` (and `103 Early Hints`) before its 200', 2, 'final 200 relayed; interim answers dropped; no failure');
  });

  it('finding 6: a 204 or 304 with stray bytes is relayed without them (and without a Content-Length on the 204)', async () => {
    for (const path of ['/204-stray', '/204-stray-no-length', '/304-stray']) {
      const { ex, failures } = await through(path);
      const status = path.startsWith('/204') ? 204 : 304;
      expect([ex.statuses, failures], path).toEqual([[status], 0]);
      expect(ex.text.endsWith('\r\n\r\n'), path).toBe(true); // no body bytes at all
      expect(ex.text).not.toContain('JUNK');
      if (status === 204) expect(ex.text.toLowerCase()).not.toContain('content-length');
    }
    held('backend 204 / 304 followed by 4 stray bytes (with and without Content-Length)', 3, 'the status relayed with no body; stray bytes dropped');
  });

  it('finding 6: a bad or overflowing chunk size → 502 `upstream_reset` (not a silent close), one failure counted', async () => {
    for (const path of ['/chunk-not-hex', '/chunk-overflow']) {
      const { ex, attempts, failures } = await through(path);
      expect([ex.statuses, ex.codes, attempts, failures], path).toEqual([[502], ['upstream_reset'], 1, 1]);
      expect(ex.text).not.toContain('hello');
    }
    held('backend chunked body with a non-hex / overflowing chunk size', 2, '502 `upstream_reset`; one failure counted');
  });
});

describe('finding 4: request lines naming another protocol', () => {
  it('`OPTIONS /x RTSP/1.0` and `SOURCE /x ICE/1.0` → 400 `bad_protocol`, nothing forwarded', async () => {
    const b = await openBackend();
    const p = await proxy({ backends: [{ id: 'raw', url: b.url }], admin: false });
    for (const line of ['OPTIONS /x RTSP/1.0', 'SOURCE /x ICE/1.0', 'GET /x RTSP/1.0', 'DESCRIBE /x RTSP/1.0']) {
      const ex = await exchange(portOf(p), req([line, 'Host: a', 'CSeq: 1']));
      expect([ex.statuses, ex.codes, ex.closedByServer], line).toEqual([[400], ['bad_protocol'], true]);
    }
    expect(b.requests).toHaveLength(0);
    // Pipelined behind a good request in the same read: the good one is answered, the RTSP one refused.
    const pipelined = await exchange(portOf(p), req(['GET /good HTTP/1.1', 'Host: a']) + req(['OPTIONS /x RTSP/1.0', 'Host: a']));
    expect([pipelined.statuses, pipelined.codes]).toEqual([[200, 400], ['bad_protocol']]);
    expect(b.requests.map((r) => r.target)).toEqual(['/good']);
    const ok = await exchange(portOf(p), req(['POST /x HTTP/1.1', 'Host: a', 'Connection: close', 'Content-Length: 21'], 'see RTSP/1.0 and ICE/'));
    expect(ok.statuses).toEqual([200]); // the names elsewhere than a request line are data
    held('request lines `OPTIONS /x RTSP/1.0`, `SOURCE /x ICE/1.0`, `GET /x RTSP/1.0`, `DESCRIBE /x RTSP/1.0`', 4, '400, closed, nothing forwarded');
  });
});

describe('finding 8: headers that imitate framing or the client address', () => {
  it('`Transfer_Encoding`, `Content_Length`, `Transfer---Encoding` and friends → 400 `bad_header`, nothing forwarded', async () => {
    const b = await openBackend();
    const p = await proxy({ backends: [{ id: 'raw', url: b.url }], admin: false });
    const names = ['Transfer_Encoding', 'Content_Length', 'Transfer---Encoding', 'transfer.encoding', 'ContentLength', 'CONTENT__LENGTH'];
    for (const name of names) {
      const ex = await exchange(portOf(p), req(['POST /x HTTP/1.1', 'Host: a', `${name}: ${name.toLowerCase().includes('length') ? '4' : 'chunked'}`, 'Content-Length: 2'], 'hi'));
      expect([ex.statuses, ex.codes, ex.closedByServer], name).toEqual([[400], ['bad_header'], true]);
    }
    expect(b.requests).toHaveLength(0);
    expect((await send(`${p.url}/x`, { headers: { 'content-type': 'text/plain', 'x-content-length-hint': '3' } })).status).toBe(200); // not look-alikes
    held(`look-alike framing headers: ${names.map((n) => `\`${n}\``).join(', ')}`, names.length, '400 `bad_header`, closed, nothing forwarded');
  });

  it('X-Real-IP, True-Client-IP and the other client-address headers are dropped; X-Forwarded-For is the proxy\'s', async () => {
    const b = await openBackend();
    const p = await proxy({ backends: [{ id: 'raw', url: b.url }], admin: false });
    const spoof = { 'x-real-ip': '6.6.6.6', 'true-client-ip': '6.6.6.6', 'x-client-ip': '6.6.6.6', 'x-cluster-client-ip': '6.6.6.6', 'client-ip': '6.6.6.6' };
    expect((await send(`${p.url}/ip`, { headers: spoof })).status).toBe(200);
    const got = b.requests.at(-1)!;
    for (const name of Object.keys(spoof)) expect(headerValues(got, name), name).toEqual([]);
    expect(headerValues(got, 'x-forwarded-for')).toEqual(['127.0.0.1']);
    expect(got.raw.toString('latin1')).not.toContain('6.6.6.6');
    held('client sends X-Real-IP, True-Client-IP, X-Client-IP, X-Cluster-Client-IP, Client-IP', 1, 'none reach the backend; X-Forwarded-For is the socket peer');
  });
});
