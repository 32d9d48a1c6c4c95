// The real HAProxy as the proxy under test: its config written into the run's work folder,
// `haproxy -db` (foreground) in its own process group, the access log read from its stdout
// as it arrives, membership changes through the runtime API, and nothing left running.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { HaproxySettings } from '../../../../experiments/proxies/haproxy-settings.ts';
import { haproxySettings } from '../../../../experiments/proxies/haproxy.ts';
import type { AccessRecord, ProxyLaunch, ProxyLauncher, ProxyUnderTest } from '../types.ts';
import { type AccessLine, UNKNOWN_SERVER, parseAccessLine, parseStateNotice, toAccessRecord } from './access-log.ts';
import { MembersTimeline } from './members.ts';
import { signalGroup, trackGroup } from '../process-group.ts';
import { haproxyConfig, serverOptions } from './config.ts';
import { applyChange, changeProblems, runtimeCommand, serverStats } from './runtime-api.ts';

/** The binary: `haproxy` on PATH, or $FULCRUM_HAPROXY. */
const haproxyBinary = (): string => process.env.FULCRUM_HAPROXY ?? 'haproxy';
const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;

/**
 * A listening socket on a free loopback port that HAProxy inherits as fd 3 (`bind fd@3`,
 * configuration.txt 11.1). HAProxy 2.6 refuses port 0, and probing a port, closing it and
 * passing the number on would let another process take it in between; an inherited socket
 * cannot be taken.
 */
export async function loopbackListener(): Promise<{ server: Server; fd: number; port: number }> {
  const server = createServer();
  // Nobody knows the port yet, and the parent closes its copy once HAProxy has it, so this
  // process never accepts a connection meant for HAProxy.
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen({ host: '127.0.0.1', port: 0, exclusive: true }, resolve));
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) { server.close(); throw new Error('cannot pass a listening socket to haproxy on this platform'); }
  return { server, fd, port: (server.address() as { port: number }).port };
}

/** Resolves once the runtime API answers `show info` (HAProxy has parsed its config and bound). */
async function waitReady(socketPath: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited = false;
  child.once('exit', () => { exited = true; });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`haproxy exited before it was ready: ${stderr().trim().split('\n').slice(-3).join(' | ')}`);
    const info = await runtimeCommand(socketPath, 'show info', 1_000).catch(() => '');
    if (/^Name: HAProxy/m.test(info)) return;
    await sleep(20);
  }
  throw new Error(`haproxy not ready after ${READY_TIMEOUT_MS} ms: ${stderr().trim()}`);
}

/**
 * The server every redispatched request's earlier tries were on, from HAProxy's own
 * counters (`show stat`, wredis: redispatches away from that server): when exactly one
 * server ever redispatched, it is that one; otherwise HAProxy's log cannot tell.
 */
async function redispatchedFrom(socketPath: string): Promise<string> {
  const from = (await serverStats(socketPath).catch(() => [])).filter((r) => Number(r.wredis) > 0);
  return from.length === 1 ? from[0].svname : UNKNOWN_SERVER;
}

/**
 * The registry's entry: the run's config translated (experiments/proxies/haproxy.ts), then
 * started. `changes` HAProxy's runtime API will refuse (static algorithms) are announced in
 * the log, not refused: the run then shows what that HAProxy does (the change fails, the
 * backend stays as it was), which `npm run export` reports as a problem instead.
 */
export const haproxyLauncher: ProxyLauncher = (launch) => {
  const cfg = launch.config;
  const translated = haproxySettings(cfg);
  if (translated.problems) return Promise.reject(new Error(`HAProxy cannot run this experiment:\n  ${translated.problems.join('\n  ')}`));
  const weight = (id: string) => cfg.servers.overrides[id]?.weight ?? cfg.servers.template.weight;
  for (const p of changeProblems(translated.settings.balance, cfg.changes, weight)) launch.log(`[haproxy] will fail: ${p}`);
  return launchHaproxy(launch, translated.settings);
};

/** Starts HAProxy with these settings in front of `launch.backends`. */
export async function launchHaproxy(launch: ProxyLaunch, settings: HaproxySettings): Promise<ProxyUnderTest> {
  const statsSocket = join(launch.workDir, 'admin.sock');
  const configPath = join(launch.workDir, 'haproxy.cfg');
  const config = haproxyConfig({ settings, backends: launch.backends, bind: 'fd@3', metricsBind: 'fd@4', statsSocket });
  if ('problems' in config) throw new Error(`haproxy config: ${config.problems.join('; ')}`);
  await writeFile(configPath, config.text);

  const listener = await loopbackListener();
  const metricsListener = await loopbackListener().catch((err: Error) => { listener.server.close(); throw err; });
  const binary = haproxyBinary();
  let child: ChildProcess;
  try {
    child = spawn(binary, ['-db', '-f', configPath], {
      stdio: ['ignore', 'pipe', 'pipe', listener.fd, metricsListener.fd],
      detached: true, // its own process group: stop() and the exit hook kill all of it
    });
  } finally {
    listener.server.close();
    metricsListener.server.close();
  }
  const pid = child.pid;
  if (pid === undefined) {
    const spawnError = await new Promise<Error>((resolve) => child.once('error', resolve));
    throw new Error(`cannot start ${binary} (${spawnError.message}); install it with npm run test:setup or set FULCRUM_HAPROXY`);
  }
  const killGroup = (signal: NodeJS.Signals) => signalGroup(pid, signal);
  let forget = () => {};
  const exited = new Promise<void>((resolve) => child.once('exit', () => { forget(); resolve(); }));
  forget = trackGroup(pid, exited); // the runner's exit and Ctrl-C paths kill it with the others

  const lines: AccessLine[] = [];
  const members = new MembersTimeline(launch.backends.map((b) => b.id), Date.now());
  let stderrTail = '';
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const text = partial + chunk;
    const parts = text.split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      const parsed = parseAccessLine(line);
      if (parsed) { lines.push(parsed); continue; }
      const notice = parseStateNotice(line);
      if (notice) members.set(notice.server, notice.up, Date.now());
      if (line.trim()) launch.log(`[haproxy] ${line}`);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderrTail = (stderrTail + d).slice(-4_000);
    for (const line of d.trimEnd().split('\n')) launch.log(`[haproxy] ${line}`);
  });

  try {
    await waitReady(statsSocket, child, () => stderrTail);
  } catch (err) {
    killGroup('SIGKILL');
    await exited;
    throw err;
  }
  launch.log(`[haproxy] pid ${pid} on 127.0.0.1:${listener.port}`);

  const runtime = { socketPath: statsSocket, serverOptions: serverOptions(settings) };
  let stopped: Promise<AccessRecord[]> | undefined;
  const stop = async (): Promise<AccessRecord[]> => {
    const earlier = lines.some((l) => l.redispatched) ? await redispatchedFrom(statsSocket) : UNKNOWN_SERVER;
    // SIGUSR1: soft stop (HAProxy finishes what it serves and logs it); SIGKILL at the deadline.
    killGroup('SIGUSR1');
    const forced = setTimeout(() => killGroup('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(forced);
    killGroup('SIGKILL'); // anything else left in the group
    return lines.map((l) => toAccessRecord(l, earlier));
  };
  return {
    name: 'haproxy',
    url: `http://127.0.0.1:${listener.port}`,
    pid,
    change: (change, url) => applyChange(runtime, change, url, {
      removing: (id) => members.set(id, false, Date.now()),
      removed: (id) => members.delete(id, Date.now()),
      added: (id) => members.set(id, true, Date.now()),
    }),
    stop: () => (stopped ??= stop()),
    members: () => members.records,
    metrics: async () => {
      const res = await request(`http://127.0.0.1:${metricsListener.port}/metrics`);
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`haproxy /metrics: ${res.statusCode}`);
      return text;
    },
  };
}
