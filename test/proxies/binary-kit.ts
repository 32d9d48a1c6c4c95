// What the binary-proof tests of HAProxy, NGINX and Caddy share: the same sequential requests
// through a real proxy binary and through the core's model, each answer written the same way
// on both sides so that the two lists compare line for line. Real HTTP backends that name
// themselves (x-server), the binary in its own process group with bounded start-up, one
// request per fresh connection from a chosen local address, and the Router driven until it
// answers.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Router } from '../../core/router.ts';
import type { AttemptOutcome } from '../../core/types.ts';

/** Is `command` installed (it runs `args`, e.g. -v, and exits 0)? */
export const installed = (command: string, args: string[]): boolean => spawnSync(command, args).status === 0;

/** A distinct loopback address for client i (127.0.0.2 …, 200 to a third octet). */
export const clientAddress = (i: number): string => `127.0.${Math.floor(i / 200)}.${(i % 200) + 2}`;

/** A loopback port free a moment ago; nothing listens there now (connections are refused). */
export async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** How a backend answers one request: a status, or 'reset' (the connection closed unanswered). */
export type Answer = number | 'reset';

/** A backend's handler; `id` is its name (s1 …). */
export type HandlerOf = (id: string) => http.RequestListener;

/** Backends that answer with their name in x-server; `answerOf(id, n)` gives the n-th (from 0) answer, 200 by default. */
export const answering = (answerOf: (id: string, n: number) => Answer = () => 200): HandlerOf => (id) => {
  let n = 0;
  return (req, res) => {
    const answer = answerOf(id, n++);
    if (answer === 'reset') { req.socket.destroy(); return; }
    res.statusCode = answer;
    res.setHeader('x-server', id);
    res.end(id);
  };
};

export interface Backends {
  /** The loopback port backend `id` listens on (TCP backends only). */
  port(id: string): number;
  close(): Promise<void>;
}

/** One HTTP server per id: on `<socketDir>/<id>.sock` when a folder is given, else on a loopback port. */
export async function startBackends(ids: string[], handlerOf: HandlerOf = answering(), socketDir?: string): Promise<Backends> {
  const servers = new Map<string, http.Server>();
  for (const id of ids) {
    const server = http.createServer(handlerOf(id));
    if (socketDir) server.listen(join(socketDir, `${id}.sock`)); else server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    servers.set(id, server);
  }
  return {
    port: (id) => (servers.get(id)!.address() as AddressInfo).port,
    close: async () => { await Promise.all([...servers.values()].map((s) => new Promise((r) => s.close(r)))); },
  };
}

export interface RunningBinary {
  readonly child: ChildProcess;
  /** Stops the whole process group with `signal` and waits for the binary's exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Spawns `command` in a process group of its own; ready once `port` accepts. Fails at once with
 * its stderr when it exits first, and after a generous deadline when it never listens.
 */
export async function startBinary(command: string, args: string[], o: { port: number; cwd?: string; env?: NodeJS.ProcessEnv }): Promise<RunningBinary> {
  const child = spawn(command, args, { cwd: o.cwd, env: o.env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const running: RunningBinary = {
    child,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      try { process.kill(-child.pid!, signal); } catch { /* the group is gone already */ }
      await exited;
    },
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${command} exited ${child.exitCode ?? child.signalCode}: ${stderr}`);
    if (await accepts(o.port)) return running;
    if (Date.now() > deadline) {
      await running.stop('SIGKILL');
      throw new Error(`${command} did not listen on ${o.port}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('error', () => resolve(false));
  });
}

export interface Reply { status: number; /** x-server: the backend that answered */ server?: string; body: string }

/** One request on a fresh connection (never a pooled one: each reaches the proxy as a new client). */
export function requestOnce(port: number, o: { localAddress?: string; method?: string; path?: string; headers?: http.OutgoingHttpHeaders; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: o.path ?? '/', localAddress: o.localAddress, method: o.method ?? 'GET', headers: o.headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, server: res.headers['x-server'] as string | undefined, body }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

/**
 * One GET / (or `method`) from `localAddress`, its answer as both sides write it: the server
 * (`s2`), the server and its status when not 200 (`s2 502`), or the proxy's own status (`status 503`).
 */
export async function sendFrom(port: number, localAddress: string, method = 'GET'): Promise<string> {
  const r = await requestOnce(port, { localAddress, method });
  return r.server === undefined ? `status ${r.status}` : r.status === 200 ? r.server : `${r.server} ${r.status}`;
}

/**
 * Requests through the Router, one after another, 1 ms apart (retry delays add to the clock).
 * `outcomeOf(id)` is what an attempt on server `id` meets; the answer is written as sendFrom's.
 */
export class RouterModel {
  nowMs = 0;
  constructor(private readonly router: Router, private readonly outcomeOf: (id: string) => AttemptOutcome) {}

  answer(hashKey: string, method = 'GET'): string {
    const { router } = this;
    const flow = router.start({ method, hashKey, nowMs: this.nowMs, bodyReplayable: true });
    let step = router.next(flow, this.nowMs);
    for (;;) {
      if (step.kind === 'attempt') step = router.attemptEnded(flow, this.nowMs, this.outcomeOf(step.backend.id));
      else if (step.kind === 'retry') { this.nowMs += step.delayMs; step = router.next(flow, this.nowMs); }
      else break;
    }
    this.nowMs += 1;
    const last = flow.path.at(-1);
    if (step.kind === 'respond') return step.status === 200 ? last! : `${last} ${step.status}`;
    if (step.kind === 'fail') return `status ${step.status}`;
    throw new Error(`unexpected step ${step.kind}`);
  }
}

/** Server `id` refuses connections when dead, else answers 200. */
export const refusingIf = (dead: ReadonlySet<string>) => (id: string): AttemptOutcome => (dead.has(id) ? { kind: 'connect-error' } : { kind: 'response', status: 200 });
