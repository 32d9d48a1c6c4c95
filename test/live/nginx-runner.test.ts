// `npm run live FILE -- --proxy nginx` end to end (the small experiment CI runs against the
// real NGINX): the CLI itself, exact weighted round robin in the result files, and an
// experiment NGINX cannot run refused with the reason.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CI_EXPERIMENT, WEIGHTED_SERVERS, requestsByServer } from './runner-kit.ts';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'fulcrum-live-nginx-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const experiment = { ...CI_EXPERIMENT, name: 'nginx-ci', seed: 17, servers: WEIGHTED_SERVERS, balancer: { policy: 'weighted-round-robin' } };

async function live(patch: Record<string, unknown>, name: string): Promise<{ code: number; stdout: string; stderr: string; out: string }> {
  const file = join(work, `${name}.json`);
  const out = join(work, name);
  writeFileSync(file, JSON.stringify({ ...experiment, ...patch, name }));
  try {
    const { stdout, stderr } = await run('npm', ['run', '-s', 'live', file, '--', '--proxy', 'nginx', '--out', out], { timeout: 60_000 });
    return { code: 0, stdout, stderr, out };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr, out };
  }
}

describe('npm run live FILE -- --proxy nginx', () => {
  it("weighted round robin 1:2:3 over 300 requests: exactly 50/100/150, every attempt from NGINX's log, results marked as NGINX's", async () => {
    const r = await live({}, 'wrr');
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(r.out, 'summary.json'), 'utf8'));
    expect(summary.proxy).toBe('nginx');
    expect(summary.requests).toMatchObject({ total: 300, ok: 300, failed: 0, retries: 0 });
    expect(requestsByServer(summary.servers)).toEqual({ s1: 50, s2: 100, s3: 150 });
    expect(r.stdout + r.stderr).toMatch(/\[nginx\] pid \d+ on 127\.0\.0\.1:\d+, 1 worker/);
  });

  it('active health checks: refused before anything starts, with the JSON path and the reason (exit 2)', async () => {
    const r = await live({ health: { active: { path: '/heartbeat', intervalMs: 1000, timeoutMs: 500 } } }, 'active');
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).not.toMatch(/\[s1\] pid|\[nginx\] pid/); // refused before any replica or NGINX started
    expect(r.stderr).toMatch(/health\.active: .*NGINX open source has no active health checks/);
  });
});
