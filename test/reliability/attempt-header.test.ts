// The attempt number the histories rely on: the proxy sets x-fulcrum-attempt on each try,
// a client cannot forge it, and the replica logs it with its answer's digest.
import { createHash } from 'node:crypto';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster } from './cluster.ts';

let c: Cluster;
beforeAll(async () => { c = await startCluster({ name: 'attempt-header', replicas: 2, routing: { balancer: { policy: 'round-robin' }, retry: {} } }); });
afterAll(async () => { await c.stop(); });

async function get(path: string, rid: string, headers: Record<string, string> = {}) {
  const res = await request(`${c.url}${path}`, { headers: { 'x-request-id': rid, ...headers } });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, attempts: res.headers['x-fulcrum-attempts'], bytes, json: JSON.parse(bytes.toString()) };
}

describe('x-fulcrum-attempt', () => {
  it('is 1 on a first try whatever the client sent, and the replica logs the digest of the bytes it sent', async () => {
    const r = await get('/a?bytes=100000', 'att-1', { 'x-fulcrum-attempt': '9' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ requestId: 'att-1', attempt: 1 });
    expect(r.json.pad).toHaveLength(100_000);
    const logged = c.responses().filter((x) => x.rid === 'att-1');
    expect(logged).toEqual([expect.objectContaining({ attempt: 1, status: 200, bytes: r.bytes.length, sha256: createHash('sha256').update(r.bytes).digest('hex') })]);
  });

  it('is 2 on the retry after a reset, and both arrivals are logged with their numbers', async () => {
    const first = await get('/b', 'att-2');
    const firstServer = String(first.attempts); // round robin: the next request goes to the other replica
    const other = c.replicas.find((x) => x.id !== firstServer)!;
    await other.setFault({ mode: 'reset' });
    try {
      const r = await get('/c', 'att-3');
      expect(r.status).toBe(200);
      expect(r.attempts).toBe(`${other.id}|${firstServer}`);
      expect(r.json).toMatchObject({ requestId: 'att-3', attempt: 2, server: firstServer });
      expect(c.arrivals().filter((a) => a.rid === 'att-3').map((a) => [a.server, a.attempt]).sort((x, y) => Number(x[1]) - Number(y[1]))).toEqual([[other.id, 1], [firstServer, 2]]);
    } finally {
      await other.setFault({ mode: 'normal' });
    }
  });
});
