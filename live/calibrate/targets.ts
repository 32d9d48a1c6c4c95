// The proxy being calibrated, in a process of its own on loopback so its CPU time is its
// own: started by the live runner's launcher of that proxy (live/runner/proxies/), so the
// calibration measures exactly what npm run live runs. HAProxy is started here by hand with
// a minimal round-robin config until it has a launcher. Only what calibration needs: a URL,
// a PID, which threads do the work, how many run in parallel, and stop().
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProxyName } from '../../experiments/proxies.ts';
import type { RunConfig } from '../../experiments/schema.ts';
import { LAUNCHERS } from '../runner/proxies/index.ts';
import { threadCount } from './cpu-time.ts';
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
  /** The calibration run's config (the launcher builds the proxy's config from it). */
  config: RunConfig;
  log: (line: string) => void;
}

/** Through the live runner's launcher of the proxy (what npm run live measures); HAProxy by hand until it has one. */
export async function startTarget(o: TargetOptions): Promise<CalibrationTarget> {
  const launcher = LAUNCHERS[o.proxy];
  if (!launcher) {
    if (o.proxy === 'haproxy') return startHaproxy(o);
    throw new Error(`no launcher for ${o.proxy}`);
  }
  const proxy = await launcher({ backends: o.backends.map((b) => ({ ...b, weight: 1 })), config: o.config, workDir: o.workDir, log: o.log });
  const pid = proxy.pid;
  if (pid === undefined) {
    await proxy.stop();
    throw new Error(`the ${o.proxy} launcher does not tell its process id: calibration cannot read its CPU time`);
  }
  const node = o.proxy === 'fulcrum'; // one event loop: the main thread is the station
  return {
    proxy: o.proxy, url: proxy.url, pid,
    threads: node ? 'main' : 'all',
    workers: node ? 1 : threadCount(pid),
    version: versionOf(o.proxy),
    stop: async () => { await proxy.stop(); },
  };
}

function versionOf(proxy: ProxyName): string {
  if (proxy === 'fulcrum') {
    const version = JSON.parse(execFileSync('npm', ['pkg', 'get', 'version'], { cwd: ROOT, encoding: 'utf8' })) as string;
    return `fulcrum ${version} on node ${process.version}`;
  }
  return execFileSync(proxy, ['-v'], { encoding: 'utf8' }).split('\n')[0];
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
  return { proxy: 'haproxy', url, pid: child.pid!, threads: 'all', workers: threads, version: versionOf('haproxy'), stop: () => stopChild(child) };
}

function forwardStderr(child: ChildProcess, name: string, log: (line: string) => void): void {
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { for (const line of d.trimEnd().split('\n')) log(`[${name}] ${line}`); });
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
