// The command lines: invalid flags or config exit with code 2 and name every problem by
// its JSON path; SIGTERM lets in-flight requests finish before the proxy exits.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { replicas, send } from './helpers.ts';

const CLI = fileURLToPath(new URL('../../live/proxy-cli.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
const dir = mkdtempSync(join(tmpdir(), 'fulcrum-cli-'));
const children: ChildProcess[] = [];
afterAll(() => { for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL'); });

function runProxy(args: string[]) {
  const child = spawn(process.execPath, ['--import', TSX, CLI, '--admin', 'off', '--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<{ url: string }>((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try { const m = JSON.parse(line); if (m.event === 'ready') resolve(m); } catch { /* not ours */ }
    });
  });
  return { child, exited, ready, stderr: () => stderr };
}

function configFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('npm run proxy', () => {
  it('exits 2 and names each invalid field with its path and the allowed values', async () => {
    const file = configFile('bad.json', JSON.stringify({ balancer: { policy: 'p3c' }, retry: { maxAttempts: 0, retryOn: [700] }, colour: 1 }));
    const run = runProxy(['--backend', 'http://127.0.0.1:9', '--config', file]);
    expect(await run.exited).toBe(2);
    const err = run.stderr();
    expect(err).toContain('balancer.policy: got "p3c"; allowed: "round-robin"');
    expect(err).toContain('retry.maxAttempts: got 0');
    expect(err).toContain('retry.retryOn.0: got 700');
    expect(err).toContain('(root): unknown field "colour"');
  });

  it('exits 2 on cross-field problems, JSON syntax errors (with line and column), a bad --policy and a non-loopback backend', async () => {
    const cases: Array<[string[], string]> = [
      [['--config', configFile('x.json', JSON.stringify({ timeouts: { requestMs: 1_000, perTryMs: 5_000 } }))], 'timeouts.perTryMs: must be <= requestMs'],
      [['--config', configFile('syntax.json', '{\n  "balancer": {\n    "policy": "p2c",\n  }\n}')], 'line 4, column 3'],
      [['--policy', 'fastest'], 'balancer.policy: got "fastest"'],
    ];
    for (const [args, message] of cases) {
      const run = runProxy(['--backend', 'http://127.0.0.1:9', ...args]);
      expect(await run.exited).toBe(2);
      expect(run.stderr()).toContain(message);
    }
    const ssrf = runProxy(['--backend', 'http://10.1.2.3:8080']);
    expect(await ssrf.exited).toBe(2);
    expect(ssrf.stderr()).toContain('not loopback');
  });

  it('SIGTERM: stops accepting, lets the in-flight request finish, exits 0', async () => {
    const [slow] = await replicas(1, () => ({ serviceTime: { dist: 'constant', value: 600 } }));
    const run = runProxy(['--backend', slow.url]);
    const { url } = await run.ready;
    const inFlight = send(`${url}/home`);
    await new Promise((r) => setTimeout(r, 150));
    run.child.kill('SIGTERM');
    const r = await inFlight;
    expect(r.status).toBe(200);
    expect(await run.exited).toBe(0);
    expect(run.stderr()).toContain('in-flight requests finished');
    await expect(send(`${url}/home`)).rejects.toThrow(); // nobody listens any more
  });
});
