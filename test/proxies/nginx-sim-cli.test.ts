// `npm run sim FILE -- --proxy nginx`: what NGINX cannot do is listed (exit 2, nothing
// written); otherwise the NGINX models run, and A-4's finding shows: under ip_hash every
// 127.0.0.x client is on one server, and a reload that adds a server moves them all at once.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requestRows } from '../live/runner-kit.ts';
import { experimentWriter, simCli, simThrough } from './sim-cli-kit.ts';

const base = {
  name: 'ng', seed: 2,
  servers: { count: 3, template: { serviceTimeMs: { dist: 'constant', value: 2 } } },
  workload: { requests: 400, arrival: { process: 'constant', ratePerSec: 200 }, clients: { count: 50 } },
  balancer: { policy: 'ip-hash' },
  changes: [{ atMs: 1000, add: 's4' }],
};

const write = experimentWriter('nginxmodels-cli');

describe('sim --proxy nginx', () => {
  it('ip_hash: 127.0.0.x clients all on s3 of three, then all on s1 of four once the reload that adds s4 switches', () => {
    const { dir, file } = write(base);
    const { out } = simThrough('nginx', dir, file);
    const rows = requestRows(out);
    // The reload switches traffic at the change's own time (live, the runner signals NGINX 100 ms ahead).
    const on = (from: number, to: number) => new Set(rows.filter((row) => row.startMs >= from && row.startMs < to).map((row) => row.servers));
    expect(on(0, 1000)).toEqual(new Set(['s3']));
    expect(on(1000, Infinity)).toEqual(new Set(['s1']));
  });

  it('active checks are refused with the way out, and nothing is written (exit 2)', () => {
    const { dir, file } = write({ ...base, health: { active: { intervalMs: 500, timeoutMs: 100 } } });
    const out = join(dir, 'o');
    const r = simCli(file, '--proxy', 'nginx', '--out', out, '--quiet');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/health\.active: .*NGINX open source has no active health checks; remove health\.active or use proxies\.nginx\.maxFails/);
    expect(existsSync(out)).toBe(false);
  });
});
