// The real Caddy as the proxy under test: its JSON config written into the run's work
// folder, `caddy run` in its own process group with its data, config and home folders there
// too, the log read from its stdout as it arrives, membership changes as config loads
// through the admin API, and nothing left running.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { CaddySettings } from '../../../../experiments/proxies/caddy-settings.ts';
import { caddySettings } from '../../../../experiments/proxies/caddy.ts';
import type { Change } from '../../../../experiments/schema.ts';
import { signalGroup, trackGroup } from '../process-group.ts';
import { MembersTimeline } from '../haproxy/members.ts';
import type { AccessRecord, ProxyLaunch, ProxyLauncher, ProxyUnderTest } from '../types.ts';
import { CaddyLog } from './access-log.ts';
import { adminRequest, loadConfig } from './admin-api.ts';
import { type CaddyBackend, caddyConfigText, dialAddress, upstreamName } from './config.ts';

/** The binary: `caddy` on PATH, or $FULCRUM_CADDY. */
export const caddyBinary = (): string => process.env.FULCRUM_CADDY ?? 'caddy';
const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;
/**
 * Go code runs on one OS thread at a time (Go's runtime reads GOMAXPROCS; Caddy 2.6 does not
 * set it): the proxy is then one CPU queue whose cost per request the calibration fits, as
 * HAProxy's `nbthread 1`. The lab's two cores are shared with the load generator and replicas.
 */
export const GO_MAX_PROCS = 1;
/** Start attempts when the chosen port was taken between choosing and binding. */
const BIND_ATTEMPTS = 5;

/**
 * A free loopback port, chosen by the OS. Caddy 2.6 cannot take a listening socket from its
 * parent (no `fd/` network before 2.7) and does not report the port it bound for `:0` in a
 * form the runner can read, so the port is chosen here and Caddy binds it; if another
 * process takes it in between, Caddy exits with "address already in use" and is started again.
 */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether Caddy uses placeholder upstream names (config.ts `namedUpstreams`): for the hash policies, whose picks hash the dial text. */
export function namesUpstreams(settings: CaddySettings): boolean {
  return settings.selection.policy === 'ip_hash' && !settings.active;
}

/** Caddy's warnings and errors, and any line that is not its JSON; not the per-request and per-check lines. */
function worthTelling(line: string): boolean {
  if (!line.startsWith('{')) return line.trim() !== '';
  return /^\{"level":"(warn|error|panic|fatal)"/.test(line) && !/"msg":"(handled request|exiting; byeee)/.test(line);
}

interface Started { child: ChildProcess; exited: Promise<void> }

/** Spawns Caddy; resolves once it serves the config, rejects with its last lines when it exits first. */
function startCaddy(configPath: string, workDir: string, onLine: (line: string) => void): Promise<Started> {
  const binary = caddyBinary();
  const child = spawn(binary, ['run', '--config', configPath], {
    cwd: workDir,
    // Caddy keeps certificates, autosave.json and locks under these: all in the work folder.
    env: {
      ...process.env, HOME: workDir, XDG_DATA_HOME: join(workDir, 'data'), XDG_CONFIG_HOME: join(workDir, 'config'),
      GOMAXPROCS: String(GO_MAX_PROCS),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: stop() and the runner's exit kill all of it
  });
  const tail: string[] = [];
  let forget = () => {};
  const exited = new Promise<void>((resolve) => child.once('exit', () => { forget(); resolve(); }));
  if (child.pid !== undefined) forget = trackGroup(child.pid, exited);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL'); // never leave a Caddy that did not come up
      reject(new Error(`caddy not ready after ${READY_TIMEOUT_MS} ms: ${tail.join(' | ')}`));
    }, READY_TIMEOUT_MS);
    child.once('error', (err) => { clearTimeout(timer); reject(new Error(`cannot start ${binary} (${err.message}); install it with npm run test:setup or set FULCRUM_CADDY`)); });
    void exited.then(() => { clearTimeout(timer); reject(new Error(`caddy exited before it was ready: ${tail.join(' | ')}`)); });
    const read = (stream: NodeJS.ReadableStream) => {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop()!;
        for (const line of parts) {
          if (tail.push(line) > 5) tail.shift();
          // Caddy's log moves from stderr to stdout once the config's logging is set up.
          if (line.includes('"serving initial configuration"')) { clearTimeout(timer); resolve({ child, exited }); }
          onLine(line);
        }
      });
    };
    read(child.stdout!);
    read(child.stderr!);
  });
}

/**
 * The registry's entry: the run's config translated (experiments/proxies/caddy.ts), then
 * started. Weight `changes` are announced in the log, not refused: the run then shows the
 * change failing (Caddy 2.6 has no weights), which `npm run export` reports as a problem.
 */
export const caddyLauncher: ProxyLauncher = (launch) => {
  const translated = caddySettings(launch.config);
  if (translated.problems) return Promise.reject(new Error(`Caddy cannot run this experiment:\n  ${translated.problems.join('\n  ')}`));
  launch.config.changes.forEach((c, i) => { if (c.kind === 'weight') launch.log(`[caddy] will fail: changes[${i}].weight: Caddy 2.6 has no upstream weights`); });
  return launchCaddy(launch, translated.settings);
};

/** Starts Caddy with these settings in front of `launch.backends`. */
export async function launchCaddy(launch: ProxyLaunch, settings: CaddySettings): Promise<ProxyUnderTest> {
  const { workDir } = launch;
  await mkdir(join(workDir, 'data'), { recursive: true });
  const adminSocket = join(workDir, 'admin.sock');
  const configPath = join(workDir, 'caddy.json');
  const named = namesUpstreams(settings);
  if (!named && settings.selection.policy === 'ip_hash') {
    launch.log('[caddy] ip_hash with active health checks: upstreams go by address (checks cannot resolve placeholder names), so the hash depends on the replicas\' ports and the counts on the model\'s names will differ');
  }
  let backends: CaddyBackend[] = launch.backends.map(({ id, url }) => ({ id, url }));
  // Dial text (address or name) → server id, for every server the run ever had.
  const ids = new Map<string, string>();
  const remember = (b: CaddyBackend) => { ids.set(named ? upstreamName(b.id) : dialAddress(b.url), b.id); ids.set(dialAddress(b.url), b.id); };
  backends.forEach(remember);

  const log = new CaddyLog();
  // Members change with the config loads, routability with the active checks' healthy/unhealthy
  // events (Caddy starts upstreams healthy); passive health logs nothing.
  const members = new MembersTimeline(backends.map((b) => b.id), Date.now());
  const onLine = (line: string) => {
    const health = log.add(line);
    if (health) {
      const id = ids.get(health.host);
      if (id && backends.some((b) => b.id === id)) members.set(id, health.healthy, health.atMs);
    }
    else if (worthTelling(line)) launch.log(`[caddy] ${line}`);
  };

  let listen = '';
  let started: Started | undefined;
  for (let attempt = 1; !started; attempt++) {
    listen = `127.0.0.1:${await freePort()}`;
    await writeFile(configPath, caddyConfigText({ settings, backends, listen, admin: `unix/${adminSocket}`, namedUpstreams: named }));
    try {
      started = await startCaddy(configPath, workDir, onLine);
    } catch (err) {
      if (attempt >= BIND_ATTEMPTS || !/address already in use/.test((err as Error).message)) throw err;
    }
  }
  const { child, exited } = started;
  const pid = child.pid!;
  launch.log(`[caddy] pid ${pid} on ${listen}`);

  const reload = async (next: CaddyBackend[]) => {
    await loadConfig(adminSocket, caddyConfigText({ settings, backends: next, listen, admin: `unix/${adminSocket}`, namedUpstreams: named }));
    backends = next;
  };
  const change = async (c: Change, url?: string) => {
    if (c.kind === 'weight') throw new Error(`caddy: weight ${c.weight} on ${c.server}: Caddy 2.6 has no upstream weights`);
    if (c.kind === 'add') {
      if (!url) throw new Error(`add ${c.server}: the replica's url is missing`);
      const added = { id: c.server, url };
      remember(added);
      await reload([...backends, added]);
      members.set(c.server, true, Date.now());
      return;
    }
    await reload(backends.filter((b) => b.id !== c.server));
    members.delete(c.server, Date.now());
  };

  let stopped: Promise<AccessRecord[]> | undefined;
  const stop = async (): Promise<AccessRecord[]> => {
    // SIGTERM: Caddy stops its servers gracefully (finishing what it serves, logging it); SIGKILL at the deadline.
    signalGroup(pid, 'SIGTERM');
    const forced = setTimeout(() => signalGroup(pid, 'SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(forced);
    signalGroup(pid, 'SIGKILL'); // anything else left in the group
    return log.records((upstream) => ids.get(upstream) ?? upstream);
  };
  return {
    name: 'caddy',
    url: `http://${listen}`,
    pid,
    change,
    stop: () => (stopped ??= stop()),
    members: () => members.records,
    metrics: async () => {
      const answer = await adminRequest(adminSocket, 'GET', '/metrics');
      if (answer.status !== 200) throw new Error(`caddy admin /metrics: ${answer.status}`);
      return answer.body;
    },
  };
}

