// `--workers N`: one listening port, N cluster worker processes, each its own balancer with
// its own admin API, seed and attempt-log part; one ready line; everything stops together.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, replicas } from './helpers.ts';

const CLI = fileURLToPath(new URL('../../live/proxy/cli.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

interface Ready { url: string; pid: number; workers: Array<{ pid: number; adminUrl: string; seed: string | number }> }

/** fulcrum_router_requests_total of one worker's admin API. */
async function routed(adminUrl: string): Promise<number> {
  const res = await request(`${adminUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const text = await res.body.text();
  return Number(/^fulcrum_router_requests_total (\d+)/m.exec(text)?.[1] ?? NaN);
}

describe('proxy --workers', () => {
  it('2 workers share one port, each balancing its own connections; stdin end stops all and joins the attempt logs', async () => {
    const backends = await replicas(3);
    const dir = mkdtempSync(join(tmpdir(), 'fulcrum-workers-'));
    const log = join(dir, 'attempts.jsonl');
    const child = spawn(process.execPath, [
      '--import', TSX, CLI, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--admin-token', ADMIN_TOKEN,
      '--policy', 'round-robin', '--seed', '4', '--workers', '2', '--attempt-log', log, '--stop-on-stdin-end',
      ...backends.map((b) => `--backend=${b.id}=${b.url}`),
    ], { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`proxy exited ${code} before its ready line`)));
    });
    const ready = JSON.parse(first) as Ready;
    expect(ready.pid).toBe(child.pid);
    expect(ready.workers.map((w) => w.seed)).toEqual(['4', '4/balancer-1']);
    expect(new Set(ready.workers.map((w) => w.adminUrl)).size).toBe(2);
    const pids = ready.workers.map((w) => w.pid);
    expect(pids.every(alive)).toBe(true);

    // A new connection per request: cluster hands connections out in turn.
    for (let i = 0; i < 40; i++) {
      const res = await request(`${ready.url}/x`, { headers: { connection: 'close', 'x-request-id': String(i) } });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    }
    const perWorker = await Promise.all(ready.workers.map((w) => routed(w.adminUrl)));
    expect(perWorker.reduce((a, b) => a + b, 0)).toBe(40);
    for (const n of perWorker) expect(n).toBeGreaterThan(5); // both balanced some, neither saw all

    child.stdin!.end();
    expect(await exited).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; id?: string });
    expect(lines.filter((l) => l.kind === 'request').map((l) => Number(l.id)).sort((a, b) => a - b)).toEqual([...Array(40).keys()]);
    expect(readdirSync(dir)).toEqual(['attempts.jsonl']); // the parts are gone
  });

  it('--workers 0 is refused with one line naming the flag', async () => {
    const child = spawn(process.execPath, ['--import', TSX, CLI, '--backend', 'http://127.0.0.1:9', '--workers', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(2);
    expect(err).toMatch(/--workers: got "0"; allowed: a positive integer/);
  });
});
