// How an attempt's answer body travels (live/proxy/upstream-call.ts): relayed at the pace
// the client reads it, read away when the answer is retried elsewhere (so its connection
// serves the next request), and given up past undici's dump limit.
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { type RawBackend, okAnswer, rawBackend } from '../security/raw-backend.ts';
import { proxy, send, waitFor } from './helpers.ts';

const opened: RawBackend[] = [];
afterAll(async () => { await Promise.all(opened.map((b) => b.close())); });

/** A 503 with a `bytes`-long body, keeping the connection open. */
function unavailable(bytes: number): { bytes: string } {
  return { bytes: ['HTTP/1.1 503 Service Unavailable', `content-length: ${bytes}`, '', 'x'.repeat(bytes)].join('\r\n') };
}

/** Backend `a` answers /fail with a 503 carrying `bytes` of body, `b` answers everything 200; the proxy retries 503s. */
async function retryPair(bytes: number) {
  const a = await rawBackend((r) => (r.target === '/fail' ? unavailable(bytes) : okAnswer('a')));
  const b = await rawBackend(() => okAnswer('b'));
  opened.push(a, b);
  const p = await proxy({
    backends: [{ id: 'a', url: a.url }, { id: 'b', url: b.url }],
    routing: { balancer: { policy: 'round-robin' }, retry: { maxAttempts: 2, backoffBaseMs: 1, backoffMaxMs: 1 } },
  });
  return { a, b, p };
}

/** Sends /fail until one meets `a` first (its 503 retried on `b`), then /ok until one reaches `a` again. */
async function failThenReachA(a: RawBackend, url: string): Promise<void> {
  for (let i = 0; i < 4 && a.requests.length === 0; i++) {
    const r = await send(`${url}/fail`);
    expect(r.status).toBe(200);
  }
  expect(a.requests.map((r) => r.target)).toEqual(['/fail']);
  for (let i = 0; i < 4 && a.requests.length === 1; i++) expect((await send(`${url}/ok`)).status).toBe(200);
  expect(a.requests.map((r) => r.target)).toEqual(['/fail', '/ok']);
}

describe('an answer retried elsewhere', () => {
  it('is read away, and its connection serves the next request', async () => {
    const { a, p } = await retryPair(1_000);
    await failThenReachA(a, p.url);
    expect(a.requests[1].connection).toBe(a.requests[0].connection);
    expect(a.connections).toBe(1);
  });

  it('gives its connection up when the body is over 128 KiB', async () => {
    const { a, p } = await retryPair(200 * 1024);
    await failThenReachA(a, p.url);
    expect(a.requests[1].connection).not.toBe(a.requests[0].connection);
  });
});

describe('a client that reads slowly', () => {
  it('holds the backend back (backpressure) and still gets every byte', async () => {
    const total = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 'z');
    const backend = { written: 0, waitingSince: 0, finished: false };
    const server = createServer((req, res) => {
      if (req.url !== '/big') { res.end('ok'); return; } // health checks
      res.writeHead(200, { 'content-length': total });
      const pump = (): void => {
        backend.waitingSince = 0;
        while (backend.written < total) {
          backend.written += chunk.length;
          if (!res.write(chunk)) { backend.waitingSince = performance.now(); res.once('drain', pump); return; }
        }
        res.end(() => { backend.finished = true; });
      };
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const p = await proxy({ backends: [{ id: 'big', url: `http://127.0.0.1:${port}` }] });
      const client = connect(Number(new URL(p.url).port), '127.0.0.1');
      let received = 0;
      client.on('data', (d: Buffer) => { received += d.length; });
      client.pause(); // reads nothing until resumed
      client.write('GET /big HTTP/1.1\r\nhost: x\r\n\r\n');
      // With backpressure the backend soon waits on 'drain' for good; without it the proxy would read all 64 MB at once.
      await waitFor('the backend held back', () => backend.waitingSince > 0 && performance.now() - backend.waitingSince > 300, 15_000);
      expect(backend.finished).toBe(false);
      expect(backend.written).toBeLessThan(total / 2);
      client.resume();
      await waitFor('every byte at the client', () => received > total, 30_000);
      await waitFor('the backend done', () => backend.finished, 5_000);
      client.destroy();
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
