// The proxy's command line: SIGTERM lets in-flight requests finish before it exits. Invalid
// flags and config files are in test/security/bad-files.test.ts.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { replicas, send } from './helpers.ts';

const CLI = fileURLToPath(new URL('../../live/proxy-cli.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
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

describe('npm run proxy', () => {
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
