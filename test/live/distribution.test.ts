// Three real replicas behind the proxy: round robin spreads exactly, every answer says
// where it went, bodies arrive intact and the forwarding headers are right.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { attempts, proxy, raw, replicas, send } from './helpers.ts';

describe('live proxy in front of three replicas', () => {
  it('round robin: 300 sequential requests → 100/100/100, and x-fulcrum-attempts names the replica that answered', async () => {
    const rs = await replicas(3);
    const p = await proxy({ backends: rs.map((r) => ({ url: r.url })), policy: 'round-robin' });
    const counts: Record<string, number> = {};
    for (let i = 0; i < 300; i++) {
      const r = await send(`${p.url}/home`);
      expect(r.status).toBe(200);
      const server = (JSON.parse(r.text) as { server: string }).server;
      expect(attempts(r)).toBe(server);
      counts[server] = (counts[server] ?? 0) + 1;
    }
    expect(counts).toEqual({ s1: 100, s2: 100, s3: 100 });
    expect(p.router.counts).toMatchObject({ requests: 300, attempts: 300, retries: 0 });
  });

  it('passes bodies through intact, buffered (≤ 64 KiB) or streamed', async () => {
    const rs = await replicas(1);
    const p = await proxy({ backends: [{ url: rs[0].url }] });
    for (const payload of [Buffer.alloc(200_000, 'x'), Buffer.from('hello, backend')]) {
      const r = await send(`${p.url}/upload?q=1`, { method: 'POST', body: payload, headers: { 'x-request-id': 'rid-1' } });
      expect(r.status).toBe(200);
      const echo = JSON.parse(r.text) as { path: string; bytesReceived: number; sha256: string; requestId: string };
      expect(echo).toMatchObject({ path: '/upload?q=1', bytesReceived: payload.length, requestId: 'rid-1' });
      expect(echo.sha256).toBe(createHash('sha256').update(payload).digest('hex'));
    }
  });

  it('drops hop-by-hop headers, those named in Connection and spoofed forwarding headers; sets its own', async () => {
    const rs = await replicas(1);
    const p = await proxy({ backends: [{ url: rs[0].url }] });
    const r = await raw(Number(new URL(p.url).port), [
      'GET /who HTTP/1.1', `Host: ${new URL(p.url).host}`, 'Connection: close, X-Secret', 'X-Secret: 1', 'Keep-Alive: timeout=5',
      'Proxy-Authorization: Basic Zm9vOmJhcg==', 'Proxy-Connection: keep-alive', 'TE: gzip', 'Upgrade: h2c',
      'X-Forwarded-For: 6.6.6.6', 'X-Forwarded-Host: evil.example', 'X-Fulcrum-Attempts: s9', '', '',
    ].join('\r\n'));
    expect(r.status).toBe(200);
    const echo = JSON.parse(r.text.slice(r.text.indexOf('\r\n\r\n') + 4)) as { headers: Record<string, string> };
    // The client is not a trusted proxy: its X-Forwarded-* are replaced, not extended.
    expect(echo.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(echo.headers['x-forwarded-host']).toBe(new URL(p.url).host);
    for (const h of ['x-secret', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'te', 'upgrade', 'x-fulcrum-attempts']) {
      expect(echo.headers[h], h).toBeUndefined();
    }
  });

  it('trusts X-Forwarded-For only from a configured peer, and then appends to it', async () => {
    const rs = await replicas(1);
    const p = await proxy({ backends: [{ url: rs[0].url }], trustedProxies: ['127.0.0.0/8'] });
    const r = await send(`${p.url}/who`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect((JSON.parse(r.text) as { headers: Record<string, string> }).headers['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
  });
});
