// `--warm-up N`: before the real proxy starts, N requests go through a throwaway proxy
// instance in front of a throwaway in-process backend. A proxy in a process of its own starts
// cold — every function on the request path (Fastify, undici, the core, the attempt log) is
// compiled and optimized while the first requests wait — and the live runner measured the
// first half second of each run at ten times the steady latency. The warm-up shares nothing
// with the real instance but code: its own balancer, seed streams, sockets and no log file, so
// routing state, the replicas and every result stay exactly as without it.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { startProxy } from './start.ts';

const CONCURRENCY = 16;

export async function warmUp(requests: number, routing: unknown): Promise<void> {
  const backend = createServer((req, res) => { req.resume(); req.on('end', () => res.end('ok')); });
  // Exclusive: in a `--workers` cluster, port 0 would otherwise be one socket shared by every worker's warm-up.
  await new Promise<void>((resolve) => backend.listen({ port: 0, host: '127.0.0.1', exclusive: true }, resolve));
  const proxy = await startProxy({
    backends: [{ id: 'warm-up', url: `http://127.0.0.1:${(backend.address() as AddressInfo).port}` }],
    routing, admin: false, seed: 0, attemptLog: '/dev/null', listen: { port: 0, exclusive: true },
  });
  const pool = new Pool(proxy.url, { connections: CONCURRENCY });
  try {
    let next = 0;
    const worker = async () => {
      while (next < requests) {
        const id = String(next++);
        const res = await pool.request({ method: 'GET', path: '/warm-up', headers: { 'x-request-id': id } });
        await res.body.dump();
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  } finally {
    await pool.close();
    await proxy.close(1_000);
    await new Promise<void>((resolve) => backend.close(() => resolve()));
  }
}
