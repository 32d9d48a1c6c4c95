// `npm run sim FILE -- --proxy haproxy`: settings HAProxy cannot express are listed (exit 2,
// nothing written); otherwise the HAProxy models run and the results name the proxy.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requestsByServer } from '../live/runner-kit.ts';
import { experimentWriter, simCli, simThrough } from './sim-cli-kit.ts';

const base = {
  name: 'hp', seed: 2,
  servers: { count: 3, template: { serviceTimeMs: { dist: 'constant', value: 2 } }, overrides: { s3: { weight: 2 } } },
  workload: { requests: 400, arrival: { process: 'constant', ratePerSec: 200 } },
  balancer: { policy: 'weighted-round-robin' },
};

const write = experimentWriter('hapmodels-cli');

describe('sim --proxy', () => {
  it('an unknown proxy names the allowed ones (exit 2)', () => {
    const { file } = write(base);
    const r = simCli(file, '--proxy', 'nginz');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^--proxy: got "nginz"; allowed: fulcrum, haproxy, nginx, caddy/);
  });

  it('lists every setting HAProxy cannot express, per variant, and writes nothing (exit 2)', () => {
    const { dir, file } = write({
      ...base, retry: { budget: {} },
      variants: [{ name: 'ok', set: { 'proxies.haproxy.retries': 1 } }, { name: 'ewma', set: { 'balancer.policy': 'peak-ewma' } }],
    });
    const out = join(dir, 'out');
    const r = simCli(file, '--proxy', 'haproxy', '--out', out, '--quiet');
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('  '))).toEqual([
      expect.stringMatching(/^ {2}ewma: balancer\.policy: "peak-ewma" has no HAProxy equivalent; nearest: leastconn/),
      expect.stringMatching(/^ {2}ewma: retry\.budget: .* has no HAProxy equivalent/),
    ]);
    expect(existsSync(out)).toBe(false);
  });

  it('runs the HAProxy models: weights 1 1 2 under roundrobin give exactly 100 100 200, and the files name the proxy', () => {
    const { dir, file } = write(base);
    const { summary } = simThrough('haproxy', dir, file);
    expect(requestsByServer(summary.servers)).toEqual({ s1: 100, s2: 100, s3: 200 });
    const fulcrum = simCli(file, '--out', join(dir, 'sim'), '--quiet');
    expect(fulcrum.status).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'sim', 'summary.json'), 'utf8')).proxy).toBeUndefined();
  });

  it('a server added at run time never joins a static algorithm (HAProxy refuses add server), but joins a dynamic one', () => {
    const requestsOf = (balancer: unknown): number => {
      const { dir, file } = write({ ...base, workload: { ...base.workload, clients: { count: 50 } }, balancer, changes: [{ atMs: 500, add: 's4' }] });
      const r = simCli(file, '--proxy', 'haproxy', '--out', join(dir, 'o'), '--quiet');
      expect(r.status).toBe(0);
      return (JSON.parse(readFileSync(join(dir, 'o', 'summary.json'), 'utf8')).servers.s4?.requests as number | undefined) ?? 0;
    };
    expect(requestsOf({ policy: 'ip-hash' })).toBe(0);
    expect(requestsOf({ policy: 'ring-hash' })).toBeGreaterThan(0);
  });
});
