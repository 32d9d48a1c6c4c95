// The real NGINX as the proxy under test: nginx.conf written into the run's work folder
// (its prefix, -p), `nginx` in the foreground (daemon off, a master and its workers) in a
// process group of its own, membership changes as a rewritten config and a reload (SIGHUP),
// the access log read from its file when NGINX has stopped, and nothing left running.
import { type ChildProcess, spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { Change } from '../../../../experiments/schema.ts';
import { type NginxSettings, nginxServerName } from '../../../../experiments/proxies/nginx-settings.ts';
import { nginxSettings } from '../../../../experiments/proxies/nginx.ts';
import { loopbackListener } from '../haproxy/launcher.ts';
import { MembersTimeline } from '../haproxy/members.ts';
import { signalGroup, trackGroup } from '../process-group.ts';
import { type AccessRecord, type ProxyLaunch, type ProxyLauncher, type ProxyUnderTest, replicaSocketPath } from '../types.ts';
import { ServerAddresses, parseAccessLine, toAccessRecord } from './access-log.ts';
import { stoppedAccepting, workerPids } from './workers.ts';
import { GENERATION_PATH, type NginxBackend, nginxConfig, serverAddress } from './config.ts';

/** The binary: `nginx` on PATH, or $FULCRUM_NGINX. */
export const nginxBinary = (): string => process.env.FULCRUM_NGINX ?? 'nginx';
const READY_TIMEOUT_MS = 10_000;
/**
 * After a SIGHUP the master parses the config, starts the new workers, sleeps 100 ms and
 * only then tells the old workers to quit (os/unix/ngx_process_cycle.c,
 * ngx_master_process_cycle: ngx_msleep(100)); until then the clients' kept-alive connections
 * are still served by the old workers with the old servers. Measured on A-4 (add s4 at
 * 6 s): the last request on the old config 104 ms after the change's time.
 */
const RELOAD_LAG_MS = 100;
const STOP_GRACE_MS = 3_000;

/** Asks NGINX which configuration answers (GENERATION_PATH); '' when nothing answers. */
async function generationAnswer(url: string): Promise<string> {
  try {
    const res = await request(`${url}${GENERATION_PATH}`, { reset: true, headersTimeout: 1_000, bodyTimeout: 1_000 });
    return await res.body.text();
  } catch {
    return '';
  }
}

/**
 * Resolves once configuration `generation` answers and every worker of the previous one
 * (`oldWorkers`) has stopped accepting: until then a new connection may still land on an
 * old worker and be balanced by the old configuration (measured: /work/briefs/nginx-facts.md).
 */
async function waitGeneration(url: string, generation: number, oldWorkers: number[], child: ChildProcess, errors: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nginx exited: ${await errors()}`);
    if (oldWorkers.every(stoppedAccepting) && (await generationAnswer(url)) === String(generation)) return;
    await sleep(20);
  }
  throw new Error(`nginx does not serve configuration ${generation} after ${READY_TIMEOUT_MS} ms: ${await errors()}`);
}

/** The last lines of NGINX's error log at or above [warn] (its notices are routine). */
async function errorTail(workDir: string): Promise<string> {
  const text = await readFile(join(workDir, 'error.log'), 'utf8').catch(() => '');
  return text.split('\n').filter((l) => /\[(warn|error|crit|alert|emerg)\]/.test(l)).slice(-3).join(' | ') || '(nothing in error.log)';
}

/** NGINX's [error] and worse lines over the run (the work folder goes with the run): how many, and the first few. */
async function errorSummary(workDir: string): Promise<string[]> {
  const text = await readFile(join(workDir, 'error.log'), 'utf8').catch(() => '');
  const errors = text.split('\n').filter((l) => /\[(error|crit|alert|emerg)\]/.test(l));
  if (errors.length === 0) return [];
  return [`${errors.length} error line(s) in its error.log${errors.length > 3 ? ', the first 3' : ''}:`, ...errors.slice(0, 3)];
}

/** The servers after one `changes` entry; `url` is the added replica's. */
export function changedBackends(backends: NginxBackend[], change: Change, url?: string, name?: string): NginxBackend[] {
  const known = backends.some((b) => b.id === change.server);
  if (change.kind === 'add') {
    if (known) throw new Error(`nginx: ${change.server} is already a server`);
    if (!url) throw new Error(`nginx: add ${change.server} needs its url`);
    return [...backends, { id: change.server, url, weight: change.weight ?? 1, ...(name !== undefined ? { name } : {}) }];
  }
  if (!known) throw new Error(`nginx: ${change.server} is not a server`);
  if (change.kind === 'remove') return backends.filter((b) => b.id !== change.server);
  return backends.map((b) => (b.id === change.server ? { ...b, weight: change.weight } : b));
}

/**
 * The folder of the replicas' Unix sockets, when they have them: every one must be at
 * replicaSocketPath(folder, id), so that nginxServerName(id) reaches it from there.
 */
function socketFolder(backends: ProxyLaunch['backends']): string | undefined {
  const first = backends.find((b) => b.socketPath !== undefined)?.socketPath;
  if (first === undefined) return undefined;
  const folder = dirname(first);
  for (const b of backends) {
    if (b.socketPath !== replicaSocketPath(folder, b.id) || nginxServerName(b.id) !== `unix:${relative(folder, b.socketPath)}`) {
      throw new Error(`nginx: replica ${b.id} is on ${b.socketPath ?? 'TCP'}; NGINX names it ${nginxServerName(b.id)}, which needs ${replicaSocketPath(folder, b.id)}`);
    }
  }
  return folder;
}

/** Reads the access log NGINX wrote (one line per proxied request) once it has stopped. */
async function readAccessLog(path: string, addresses: ServerAddresses): Promise<AccessRecord[]> {
  const records: AccessRecord[] = [];
  const lines = createInterface({ input: createReadStream(path).on('error', () => {}) });
  for await (const line of lines) {
    const parsed = parseAccessLine(line);
    if (parsed) records.push(toAccessRecord(parsed, addresses.idOf));
  }
  return records;
}

/**
 * The registry's entry: the run's config translated (experiments/proxies/nginx.ts), then
 * started; what NGINX cannot do (e.g. active health checks) is refused before anything runs.
 */
export const nginxLauncher: ProxyLauncher = (launch) => {
  const translated = nginxSettings(launch.config);
  if (translated.problems) return Promise.reject(new Error(`NGINX cannot run this experiment:\n  ${translated.problems.join('\n  ')}`));
  return launchNginx(launch, translated.settings);
};
// Only `hash … consistent` depends on the servers' names; every other method runs on TCP,
// as npm run calibrate measures it.
nginxLauncher.replicaSockets = (config) => {
  const balance = nginxSettings(config).settings?.balance;
  return balance?.method === 'hash' && balance.consistent;
};

/** Starts NGINX with these settings in front of `launch.backends`. */
export async function launchNginx(launch: ProxyLaunch, settings: NginxSettings): Promise<ProxyUnderTest> {
  const { workDir } = launch;
  const configPath = join(workDir, 'nginx.conf');
  // Replicas on Unix sockets (the runner gave them when replicaSockets said so) are named
  // nginxServerName(id), `unix:s1.sock`, the name the model hashes: a path relative to
  // NGINX's cwd, which is then the sockets' folder.
  const socketDir = socketFolder(launch.backends);
  const nameOf = (id: string) => (socketDir !== undefined ? nginxServerName(id) : undefined);
  const listener = await loopbackListener();
  const url = `http://127.0.0.1:${listener.port}`;
  const addresses = new ServerAddresses();
  let backends: NginxBackend[] = launch.backends.map((b) => ({ id: b.id, url: b.url, weight: b.weight, name: nameOf(b.id) }));
  let generation = 1;
  /** Writes nginx.conf for these servers as configuration `generation`. */
  const writeConfig = async (backends: NginxBackend[], generation: number) => {
    for (const b of backends) addresses.set(serverAddress(b), b.id);
    const config = nginxConfig({
      settings, backends, listen: `127.0.0.1:${listener.port}`, generation,
      // As root, NGINX would run its workers as nobody, who cannot enter the private work folder.
      user: process.getuid?.() === 0 ? 'root' : undefined,
    });
    if ('problems' in config) throw new Error(`nginx config: ${config.problems.join('; ')}`);
    await writeFile(configPath, config.text);
  };
  await writeConfig(backends, generation).catch((err: Error) => { listener.server.close(); throw err; });

  const binary = nginxBinary();
  let child: ChildProcess;
  try {
    // NGINX cannot listen on port 0. It takes listening sockets from its predecessor on a
    // binary upgrade: the NGINX variable lists their fds (core/ngx_connection.c,
    // ngx_add_inherited_sockets → ngx_set_inherited_sockets), and the `listen` with the same
    // address reuses the socket (ngx_init_cycle). So the runner binds a free port and NGINX
    // inherits it as fd 3: no other process can take the port in between.
    child = spawn(binary, ['-p', `${workDir}/`, '-c', 'nginx.conf', '-e', 'error.log'], {
      cwd: socketDir ?? workDir,
      env: { ...process.env, NGINX: '3;' },
      stdio: ['ignore', 'pipe', 'pipe', listener.fd],
      detached: true, // its own process group: stop() and the exit hook kill all of it
    });
  } finally {
    listener.server.close();
  }
  const pid = child.pid;
  if (pid === undefined) {
    const spawnError = await new Promise<Error>((resolve) => child.once('error', resolve));
    throw new Error(`cannot start ${binary} (${spawnError.message}); install it with npm run test:setup or set FULCRUM_NGINX`);
  }
  let forget = () => {};
  const exited = new Promise<void>((resolve) => child.once('exit', () => { forget(); resolve(); }));
  forget = trackGroup(pid, exited); // the runner's exit and Ctrl-C paths kill it with the others
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => { if (line.trim()) launch.log(`[nginx] ${line}`); });
  }
  const errors = () => errorTail(workDir);

  try {
    await waitGeneration(url, generation, [], child, errors);
  } catch (err) {
    signalGroup(pid, 'SIGKILL');
    await exited;
    throw err;
  }
  launch.log(`[nginx] pid ${pid} on 127.0.0.1:${listener.port}, ${settings.workerProcesses} worker(s)`);

  const members = new MembersTimeline(backends.map((b) => b.id), Date.now());
  // One reload at a time: each waits for the previous one's workers.
  let reloading: Promise<void> = Promise.resolve();
  const reload = async (c: Change, replicaUrl?: string): Promise<void> => {
    // Nothing changes here until the new config is written (a weight NGINX cannot take throws first).
    const next = changedBackends(backends, c, replicaUrl, nameOf(c.server));
    await writeConfig(next, generation + 1);
    backends = next;
    generation += 1;
    if (c.kind === 'remove') members.set(c.server, false, Date.now());
    // SIGHUP to the master only (the workers ignore it): re-read the config, start new
    // workers, let the old ones finish what they serve (ngx_master_process_cycle).
    const oldWorkers = workerPids(pid);
    const sentMs = Date.now();
    process.kill(pid, 'SIGHUP');
    await waitGeneration(url, generation, oldWorkers, child, errors);
    launch.log(`[nginx] reload for ${c.kind} ${c.server}: old workers stopped accepting ${Date.now() - sentMs} ms after SIGHUP`);
    if (c.kind === 'remove') members.delete(c.server, Date.now());
    else if (c.kind === 'add') members.set(c.server, true, Date.now());
  };
  const change = (c: Change, replicaUrl?: string): Promise<void> => {
    const done = reloading.then(() => reload(c, replicaUrl));
    reloading = done.catch(() => {}); // a refused change does not block the next one
    return done;
  };

  let stopped: Promise<AccessRecord[]> | undefined;
  const stop = async (): Promise<AccessRecord[]> => {
    // SIGQUIT: graceful shutdown (workers finish their requests and log them); SIGKILL at the deadline.
    signalGroup(pid, 'SIGQUIT');
    const forced = setTimeout(() => signalGroup(pid, 'SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(forced);
    signalGroup(pid, 'SIGKILL'); // anything else left in the group
    for (const line of await errorSummary(workDir)) launch.log(`[nginx] ${line}`);
    return readAccessLog(join(workDir, 'access.log'), addresses);
  };
  return {
    name: 'nginx',
    url,
    pid,
    changeLeadMs: RELOAD_LAG_MS,
    change,
    stop: () => (stopped ??= stop()),
    members: () => members.records,
  };
}
