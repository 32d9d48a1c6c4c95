// The proxy's command line: SIGTERM lets in-flight requests finish before it exits; bad discovery
// flags exit 2. Invalid config files and other flags are in test/security/bad-files.test.ts.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startDnsStub } from './dns-stub.ts';
import { replicas, send, waitFor } from './helpers.ts';

const CLI = fileURLToPath(new URL('../../live/proxy/cli.ts', import.meta.url));
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
  it('exits 2 on a bad --discover, --dns-server or --discover-interval-ms, naming the flag and the allowed form', async () => {
    const cases: Array<[string[], string]> = [
      [['--discover', 'app.test'], '--discover: got "app.test"; allowed: HOST:PORT (a DNS name or an address, port 1-65535), e.g. replicas.default.svc.cluster.local:9001'],
      [['--discover', 'app.test:99999'], '--discover: got "app.test:99999"; allowed: HOST:PORT'],
      [['--discover', 'app.test:80', '--dns-server', 'dns.test:53'], '--dns-server: got "dns.test:53"; allowed: IP:PORT'],
      [['--discover', 'app.test:80', '--discover-interval-ms', '0'], '--discover-interval-ms: got "0"; allowed: a positive integer'],
      [['--backend', 'http://127.0.0.1:9', '--dns-server', '127.0.0.1:53'], '--dns-server: only allowed with --discover HOST:PORT'],
      [[], '--backend: at least one backend (or --discover) is required'],
    ];
    await Promise.all(cases.map(async ([args, message]) => {
      const run = runProxy(args);
      expect(await run.exited, args.join(' ')).toBe(2);
      expect(run.stderr()).toContain(message);
    }));
  });

  it('--discover with --dns-server: the ready line lists the discovered backends, and requests reach them', async () => {
    const dns = await startDnsStub();
    try {
      const [r] = await replicas(1);
      dns.set('app.test', ['127.0.0.1']);
      const run = runProxy(['--discover', `app.test:${r.port}`, '--dns-server', dns.server, '--discover-interval-ms', '200']);
      const ready = await run.ready as { url: string; backends: string[] };
      expect(ready.backends).toEqual([`127.0.0.1_${r.port}`]);
      expect(JSON.parse((await send(`${ready.url}/home`)).text).server).toBe(r.id);
      await waitFor('the discovery event on stderr', () => run.stderr().includes(`"kind":"discovered","id":"127.0.0.1_${r.port}"`));
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    } finally {
      await dns.close();
    }
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
