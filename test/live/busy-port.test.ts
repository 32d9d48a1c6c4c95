// A port already taken is a usage error: one line naming the port and the flag, exit 2, no
// stack trace (the proxy's --listen and --admin, the replica's --port).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { type Server, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flagProblem } from '../../core/did-you-mean.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function runCli(script: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return once(child, 'exit').then(([code]) => { clearTimeout(killer); return { code: code as number | null, stderr }; });
}

describe('a busy port', () => {
  let taken: Server;
  let port = 0;
  beforeAll(async () => {
    taken = createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    port = (taken.address() as { port: number }).port;
  });
  afterAll(() => { taken.close(); });

  it('server --port: one line naming --port and the port, exit 2', async () => {
    const r = await runCli('server/cli.ts', ['--id', 's1', '--port', String(port)]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([`server: --port: port ${port} on 127.0.0.1 is already in use; choose another with --port (0 picks a free port)`]);
  }, 40_000);

  it('proxy --listen and --admin: the flag whose port is taken is named', async () => {
    const data = await runCli('live/proxy/cli.ts', ['--backend', 'http://127.0.0.1:9', '--listen', `127.0.0.1:${port}`, '--admin', 'off']);
    expect(data.code).toBe(2);
    expect(data.stderr.trim().split('\n')).toEqual([`proxy: --listen: port ${port} on 127.0.0.1 is already in use; choose another with --listen (0 picks a free port)`]);
    const admin = await runCli('live/proxy/cli.ts', ['--backend', 'http://127.0.0.1:9', '--listen', '127.0.0.1:0', '--admin', `127.0.0.1:${port}`, '--admin-token', 'x'.repeat(32)]);
    expect(admin.code).toBe(2);
    expect(admin.stderr.trim().split('\n')).toEqual([`proxy: --admin: port ${port} on 127.0.0.1 is already in use; choose another with --admin (0 picks a free port)`]);
  }, 80_000);
});

describe('unknown flags', () => {
  it('one short line with the closest flag', () => {
    expect(flagProblem("Unknown option '--prot'. To specify a positional argument starting with a '-', …", ['port', 'host'])).toBe('unknown flag --prot; did you mean "--port"?');
    expect(flagProblem("Unknown option '--zzzz'. …", ['port'])).toBe('unknown flag --zzzz');
  });
});
