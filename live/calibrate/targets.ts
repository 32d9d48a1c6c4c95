// The proxy being calibrated, started as a process of its own on loopback so its CPU time
// is its own: Fulcrum's proxy (live/proxy/cli.ts) or the real `haproxy` binary with a
// minimal round-robin config. Only what calibration needs: a URL, a PID, which threads do
// the work, and stop(). When the live runner's launchers (live/runner/proxies/) expose the
// PID, calibration can take them instead (the proxy is already a parameter here).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProxyName } from '../../experiments/proxies.ts';
import { waitForHttp } from '../runner/runtime/wait.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CalibrationTarget {
  readonly proxy: ProxyName;
  readonly url: string;
  readonly pid: number;
  /** The threads whose CPU queues requests: Node's event loop (main) or every HAProxy thread. */
  readonly threads: 'main' | 'all';
  /** Parallel servers of the CPU station. */
  readonly workers: number;
  /** The proxy's version line. */
  readonly version: string;
  stop(): Promise<void>;
}

export interface TargetOptions {
  proxy: ProxyName;
  backends: Array<{ id: string; url: string }>;
  /** A private folder for the proxy's config. */
  workDir: string;
  /** Path the readiness check requests (a replica answers it). */
  path: string;
  seed: number;
  log: (line: string) => void;
}

export function startTarget(o: TargetOptions): Promise<CalibrationTarget> {
  return o.proxy === 'haproxy' ? startHaproxy(o) : startFulcrum(o);
}

async function startFulcrum(o: TargetOptions): Promise<CalibrationTarget> {
  const args = ['--import', 'tsx', 'live/proxy/cli.ts', '--listen', '127.0.0.1:0', '--admin', 'off',
    '--policy', 'round-robin', '--seed', String(o.seed), ...o.backends.flatMap((b) => ['--backend', `${b.id}=${b.url}`])];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' } });
  forwardStderr(child, 'fulcrum', o.log);
  const ready = await readyLine(child, 'fulcrum');
  const version = (JSON.parse(execFileSync('npm', ['pkg', 'get', 'version'], { cwd: ROOT, encoding: 'utf8' })) as string);
  return { proxy: 'fulcrum', url: ready.url, pid: child.pid!, threads: 'main', workers: 1, version: `fulcrum ${version} on node ${process.version}`, stop: () => stopChild(child) };
}

async function startHaproxy(o: TargetOptions): Promise<CalibrationTarget> {
  const port = await freePort();
  // HAProxy 2.6 starts one thread per CPU it may run on; said explicitly so the station knows.
  const threads = availableParallelism();
  const config = [
    'global',
    `  nbthread ${threads}`,
    '  maxconn 4096',
    'defaults',
    '  mode http',
    '  timeout connect 5s',
    '  timeout client 30s',
    '  timeout server 30s',
    'frontend calibration',
    `  bind 127.0.0.1:${port}`,
    '  default_backend replicas',
    'backend replicas',
    '  balance roundrobin',
    ...o.backends.map((b) => `  server ${b.id} ${new URL(b.url).host}`),
    '',
  ].join('\n');
  const file = join(o.workDir, 'haproxy.cfg');
  await writeFile(file, config);
  const version = execFileSync('haproxy', ['-v'], { encoding: 'utf8' }).split('\n')[0];
  const child = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  forwardStderr(child, 'haproxy', o.log);
  child.stdout!.resume();
  const exited = new Promise<never>((_, reject) => child.once('exit', (code, signal) => reject(new Error(`haproxy exited (${signal ?? code}) before it listened`))));
  const url = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([waitForHttp(`${url}${o.path}`, 10_000), exited]);
  } catch (e) {
    await stopChild(child);
    throw e;
  }
  return { proxy: 'haproxy', url, pid: child.pid!, threads: 'all', workers: threads, version, stop: () => stopChild(child) };
}

function forwardStderr(child: ChildProcess, name: string, log: (line: string) => void): void {
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { for (const line of d.trimEnd().split('\n')) log(`[${name}] ${line}`); });
}

/** The `{"event":"ready",…}` line Fulcrum's proxy prints once it listens. */
function readyLine(child: ChildProcess, name: string): Promise<{ url: string }> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onExit = (code: number | null, signal: string | null) => reject(new Error(`${name} exited (${signal ?? code}) before it was ready`));
    child.once('exit', onExit);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let event: { event?: string; url?: unknown } | undefined;
        try { event = JSON.parse(line) as typeof event; } catch { continue; }
        if (event?.event === 'ready' && typeof event.url === 'string') {
          child.off('exit', onExit);
          resolve({ url: event.url });
        }
      }
    });
  });
}

/** SIGTERM, SIGKILL after 3 s; resolves once the process is gone. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const forced = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(forced);
}

/** A loopback port free now. HAProxy cannot report a port-0 bind, so this race is accepted here. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
