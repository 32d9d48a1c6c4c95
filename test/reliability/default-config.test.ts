// The proxy's default configuration against a killed and a stopped replica (issue 14,
// finding 7): before, the default had no per-try timeout, the pool went into panic mode
// and six `POST /echo` each waited the whole 30 s deadline for a 504. With the defaults in
// live/proxy/config.ts (per-try 10 s, connect 1 s, probes every 1 s) no request waits the
// deadline: a GET caught on the stopped replica is retried elsewhere after the per-try
// timeout, a POST gets 504 `upstream_timeout` then (it may have been processed: never
// replayed), and requests sent to the dead replica fail to connect and go elsewhere.
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_ROUTING_INPUT } from '../../live/proxy/config.ts';
import { type Cluster, startCluster } from './cluster.ts';

let cluster: Cluster | undefined;
afterEach(async () => { await cluster?.stop(); cluster = undefined; });

const PER_TRY_MS = DEFAULT_ROUTING_INPUT.timeouts.perTryMs;
const DEADLINE_MS = DEFAULT_ROUTING_INPUT.timeouts.requestMs;

interface Outcome { method: string; status: number; error: string | undefined; attempts: string; ms: number }

async function timed(url: string, method: 'GET' | 'POST'): Promise<Outcome> {
  const t0 = performance.now();
  const res = await request(url, { method, body: method === 'POST' ? 'payload' : undefined, headersTimeout: DEADLINE_MS + 10_000 });
  await res.body.text();
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(',') : v);
  return { method, status: res.statusCode, error: one(res.headers['x-fulcrum-error']), attempts: one(res.headers['x-fulcrum-attempts']) ?? '', ms: performance.now() - t0 };
}

describe('default configuration: one replica killed, one stopped', () => {
  it('no client waits the deadline; once the probes have spoken every request goes to the live replica at once', async () => {
    cluster = await startCluster({ name: 'defaults-kill-stop', replicas: 3, routing: DEFAULT_ROUTING_INPUT });
    const c = cluster;
    c.replicas[0].kill('SIGKILL');
    await c.replicas[0].exited;
    c.replicas[1].kill('SIGSTOP');
    try {
      const wave = () => Promise.all([
        ...Array.from({ length: 6 }, (_, i) => timed(`${c.url}/echo/post-${i}`, 'POST')),
        ...Array.from({ length: 6 }, (_, i) => timed(`${c.url}/echo/get-${i}`, 'GET')),
      ]);
      const first = await wave();
      // By now the probes (1 s interval, 1 s timeout, fall 3) have marked both replicas down.
      const second = await wave();
      const all = [...first, ...second];
      const slowest = Math.max(...all.map((o) => o.ms));
      const table = JSON.stringify(all.map((o) => [o.method, o.status, o.error, o.attempts, Math.round(o.ms)]));
      expect(all.filter((o) => o.error === 'deadline'), table).toEqual([]);
      expect(slowest, table).toBeLessThan(PER_TRY_MS + 3_000); // one per-try timeout plus slack, far below the 30 s deadline
      // First wave, before the probes have spoken: a request caught on the stopped s2 waits one
      // per-try timeout, then a GET is retried and a POST (maybe processed) gets 504; one that met
      // the dead s1 goes elsewhere at once. When Envoy's retry budget (20 %, at least 3) is spent,
      // a GET fails like a POST: 504 after s2's per-try timeout, or 502 at once on s1.
      for (const o of first) {
        const last = o.attempts.split('|').at(-1);
        const ok = o.status === 200 ? last === 's3'
          : o.error === 'upstream_timeout' ? last === 's2'
            : o.error === 'connect_failed' && last === 's1' && o.ms < 2_000;
        expect(ok, table).toBe(true);
      }
      // Second wave: both replicas are down, no panic: every request goes to s3 at once.
      for (const o of second) expect([o.status, o.attempts, o.ms < 2_000], table).toEqual([200, 's3', true]);
      process.stdout.write(`defaults-kill-stop: ${table}\n`);
    } finally {
      c.replicas[1].kill('SIGCONT');
    }
  }, 90_000);
});
