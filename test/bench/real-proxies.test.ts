// The reference rows of `npm run bench -- proxy` must measure proxying: each installed proxy
// (HAProxy, NGINX, Caddy) starts from bench/real-proxies.ts's config, answers through the
// replicas in round robin, and its whole process group is gone after stop().
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnReplica } from '../../server/spawn.ts';
import { startRealProxies } from '../../bench/real-proxies.ts';

const dir = mkdtempSync(join(tmpdir(), 'fulcrum-bench-real-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const groupAlive = (pgid: number) => spawnSync('pgrep', ['-g', String(pgid)], { stdio: 'ignore' }).status === 0;

describe('bench reference proxies', () => {
  it('each installed one spreads GET /home over 3 replicas in turn and stops with its group', async () => {
    const replicas = await Promise.all([1, 2, 3].map((i) => spawnReplica({ id: `s${i}`, serviceTime: { dist: 'constant', value: 0 } })));
    try {
      const { started, missing } = await startRealProxies(dir, replicas.map((r) => new URL(r.url).host));
      expect(started.length + missing.length).toBe(3);
      try {
        for (const proxy of started) {
          const servers: string[] = [];
          for (let i = 0; i < 6; i++) {
            const res = await fetch(`${proxy.url}/home`);
            expect(res.status, proxy.name).toBe(200);
            servers.push(((await res.json()) as { server: string }).server);
          }
          // Round robin: every replica once in any 3 consecutive requests.
          expect(new Set(servers.slice(0, 3)).size, `${proxy.name}: ${servers}`).toBe(3);
          expect(servers.slice(3), proxy.name).toEqual(servers.slice(0, 3));
        }
      } finally {
        await Promise.all(started.map((p) => p.stop()));
      }
      for (const proxy of started) expect(groupAlive(proxy.pid), proxy.name).toBe(false);
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
    }
  });
});
