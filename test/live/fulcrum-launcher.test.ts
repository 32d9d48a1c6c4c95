// Fulcrum's proxy under test in a process of its own (live/runner/proxies/fulcrum.ts) and
// the attempt log it writes (--attempt-log, live/proxy/attempt-log.ts): every request the
// client sent is a line with its x-request-id, each attempt's server, times inside the
// client's own window and ok, even when the proxy is stopped right after the last answer.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { parseExperiment } from '../../experiments/schema.ts';
import { launchFulcrum } from '../../live/runner/proxies/fulcrum.ts';
import { replicas } from './helpers.ts';

const workDir = mkdtempSync(join(tmpdir(), 'fulcrum-launcher-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** A run's validated config: round robin over `count` servers, plus `extra` sections. */
const runConfig = (count: number, extra: object = {}) => parseExperiment({
  name: 'launcher', seed: 3,
  servers: { count, template: { serviceTimeMs: { dist: 'constant', value: 1 }, concurrency: 4 } },
  workload: { requests: 10, arrival: { process: 'constant', ratePerSec: 10 } },
  balancer: { policy: 'round-robin' },
  ...extra,
}, 'launcher').runs[0].config;

describe('Fulcrum\'s proxy as a child process with its attempt log', () => {
  it('logs every request by id with its attempts, retries included, and stops cleanly', async () => {
    const rs = await replicas(2);
    // s0 refuses connections (nothing listens there): every request routed to it first is retried.
    const dead = 'http://127.0.0.1:9'; // discard port: closed on any test machine
    const proxy = await launchFulcrum({
      backends: [{ id: 's0', url: dead, weight: 1 }, ...rs.map((r) => ({ id: r.id, url: r.url, weight: 1 }))],
      config: runConfig(3, { retry: { maxAttempts: 2 } }), workDir, log: () => {},
    });
    const sent: Array<{ id: string; startMs: number; endMs: number; status: number }> = [];
    for (let i = 0; i < 30; i++) {
      const startMs = performance.timeOrigin + performance.now();
      const res = await request(`${proxy.url}/home`, { headers: { 'x-request-id': `r${i}` } });
      await res.body.dump();
      sent.push({ id: `r${i}`, startMs, endMs: performance.timeOrigin + performance.now(), status: res.statusCode });
    }
    const records = await proxy.stop(); // at once: the last lines are flushed by SIGTERM, not by the timer
    expect(await proxy.stop()).toBe(records); // idempotent

    expect(sent.every((s) => s.status === 200)).toBe(true);
    expect(records.map((r) => r.requestId)).toEqual(sent.map((s) => s.id));
    let retried = 0;
    for (const [i, r] of records.entries()) {
      const client = sent[i];
      expect(r.status).toBe(200);
      expect(r.servers).toEqual(r.attempts!.map((a) => a.server));
      expect(r.attempts!.at(-1)!.ok).toBe(true);
      for (const a of r.attempts!) {
        expect(a.startMs).toBeLessThanOrEqual(a.endMs);
        // the same clock in two processes: within the client's window, give or take a millisecond
        expect(a.startMs).toBeGreaterThanOrEqual(client.startMs - 1);
        expect(a.endMs).toBeLessThanOrEqual(client.endMs + 1);
      }
      if (r.servers[0] === 's0') {
        retried++;
        expect(r.servers).toHaveLength(2);
        expect(r.attempts![0].ok).toBe(false);
      }
    }
    // Round robin over three, and each retry takes the next turn too: s0, s1 (retry), s2, s0 …
    expect(retried).toBe(15);
    const members = proxy.members!();
    // One line per backend added at start; no health checks, so none ever leaves.
    expect(members.map((m) => m.servers.map((s) => s.id).join(','))).toEqual(['s0', 's0,s1', 's0,s1,s2']);
    expect(members.at(-1)!.servers.every((s) => s.routable)).toBe(true);
    await expect(request(`${proxy.url}/home`)).rejects.toThrow(); // the process is gone
  });

  it('changes go through the admin API: an added server gets traffic, a members line says when', async () => {
    const rs = await replicas(2);
    const proxy = await launchFulcrum({ backends: [{ id: 's1', url: rs[0].url, weight: 1 }], config: runConfig(1), workDir, log: () => {} });
    await proxy.change({ atMs: 0, kind: 'add', server: 's2', weight: 1 }, rs[1].url);
    for (let i = 0; i < 4; i++) await (await request(`${proxy.url}/`, { headers: { 'x-request-id': String(i) } })).body.dump();
    const records = await proxy.stop();
    expect(records.map((r) => r.servers.join('|')).sort()).toEqual(['s1', 's1', 's2', 's2']);
    expect(proxy.members!().at(-1)!.servers).toEqual([{ id: 's1', routable: true }, { id: 's2', routable: true }]);
  });
});
