// The proxy being calibrated, in a process of its own on loopback so its CPU time is its
// own: started by the live runner's launcher of that proxy (live/runner/proxies/), so the
// calibration measures exactly what npm run live runs. Only what calibration needs: a URL,
// a PID, which threads do the work, how many run in parallel, and stop().
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ProxyName } from '../../experiments/proxies.ts';
import type { RunConfig } from '../../experiments/schema.ts';
import { LAUNCHERS } from '../runner/proxies/index.ts';
import { GO_MAX_PROCS, caddyBinary } from '../runner/proxies/caddy/launcher.ts';
import { nginxBinary } from '../runner/proxies/nginx/launcher.ts';
import { type CpuThreads, threadCount } from './cpu-time.ts';
import { childPids } from '../runner/proxies/process-group.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CalibrationTarget {
  readonly proxy: ProxyName;
  readonly url: string;
  readonly pid: number;
  /** The threads whose CPU queues requests: Node's event loop (main), every thread of a threaded proxy (HAProxy's nbthread), or of its child processes (NGINX's workers). */
  readonly threads: CpuThreads;
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
  /** The calibration run's config (the launcher builds the proxy's config from it). */
  config: RunConfig;
  log: (line: string) => void;
}

/** The proxy, through the live runner's launcher of it. */
export async function startTarget(o: TargetOptions): Promise<CalibrationTarget> {
  const launcher = LAUNCHERS[o.proxy];
  if (!launcher) throw new Error(`${o.proxy} has no launcher in live/runner/proxies/index.ts: it cannot run live yet`);
  const proxy = await launcher({ backends: o.backends.map((b) => ({ ...b, weight: 1 })), config: o.config, workDir: o.workDir, log: o.log });
  const pid = proxy.pid;
  if (pid === undefined) {
    await proxy.stop();
    throw new Error(`the ${o.proxy} launcher does not tell its process id: calibration cannot read its CPU time`);
  }
  const node = o.proxy === 'fulcrum'; // one event loop: the main thread is the station
  // NGINX: the master (pid) only reads the config and signals; its worker processes proxy,
  // one event loop each (worker_processes, from the translated settings).
  const nginx = o.proxy === 'nginx';
  return {
    proxy: o.proxy, url: proxy.url, pid,
    threads: node ? 'main' : nginx ? 'children' : 'all',
    // Caddy: Go's runtime has many threads, but GOMAXPROCS of them run Go code at once.
    workers: node ? 1 : nginx ? childPids(pid).length : o.proxy === 'caddy' ? GO_MAX_PROCS : threadCount(pid),
    version: versionOf(o.proxy),
    stop: async () => { await proxy.stop(); },
  };
}

function versionOf(proxy: ProxyName): string {
  if (proxy === 'fulcrum') {
    const version = JSON.parse(execFileSync('npm', ['pkg', 'get', 'version'], { cwd: ROOT, encoding: 'utf8' })) as string;
    return `fulcrum ${version} on node ${process.version}`;
  }
  if (proxy === 'caddy') return `caddy ${execFileSync(caddyBinary(), ['version'], { encoding: 'utf8' }).trim()}`;
  if (proxy === 'nginx') {
    // nginx -v prints "nginx version: nginx/1.22.1" on stderr.
    const out = spawnSync(nginxBinary(), ['-v'], { encoding: 'utf8' });
    return (out.stderr || out.stdout).trim().split('\n')[0];
  }
  const binary = proxy === 'haproxy' ? process.env.FULCRUM_HAPROXY ?? 'haproxy' : proxy; // as its launcher finds it
  return execFileSync(binary, ['-v'], { encoding: 'utf8' }).split('\n')[0];
}
