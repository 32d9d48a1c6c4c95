// Starts a replica as a real child process (what tests, benches and the live runner use):
// argument array, no shell; resolves once the ready line arrives; collects the request log.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type Distribution, formatDistribution } from '../core/distributions.ts';
import type { FaultInput } from './control.ts';
import type { RequestLogEntry, ResponseLogEntry } from './replica.ts';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

export interface SpawnOptions {
  id: string;
  port?: number;
  host?: string;
  serviceTime?: Distribution;
  concurrency?: number;
  seed?: string | number;
  controlToken?: string;
  logRequests?: boolean;
  readyTimeoutMs?: number;
}

export interface SpawnedReplica {
  readonly id: string;
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Every request the replica logged on arrival (with `logRequests`). */
  readonly requests: RequestLogEntry[];
  /** Every full answer the replica logged just before writing it (with `logRequests`). */
  readonly responses: ResponseLogEntry[];
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves on exit. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
  /** Switches the fault mode through the control endpoint (needs `controlToken`). */
  setFault(fault: FaultInput): Promise<void>;
}

export async function spawnReplica(o: SpawnOptions): Promise<SpawnedReplica> {
  const args = ['--import', TSX, CLI, '--id', o.id, '--port', String(o.port ?? 0), '--host', o.host ?? '127.0.0.1'];
  if (o.serviceTime) args.push('--service-time', formatDistribution(o.serviceTime));
  if (o.concurrency !== undefined) args.push('--concurrency', String(o.concurrency));
  if (o.seed !== undefined) args.push('--seed', String(o.seed));
  if (o.logRequests) args.push('--log-requests');
  // The token travels in the environment, not argv (argv is world-readable in /proc).
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: process.env.NODE_ENV };
  if (o.controlToken) env.FULCRUM_CONTROL_TOKEN = o.controlToken;
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env, shell: false });

  const requests: RequestLogEntry[] = [];
  const responses: ResponseLogEntry[] = [];
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-4_000); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });

  const ready = await new Promise<{ port: number; url: string }>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`replica ${o.id} not ready in time: ${stderr}`)); }, o.readyTimeoutMs ?? 15_000);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let msg: { event?: string; port?: number; url?: string };
      try { msg = JSON.parse(line); } catch { return; }
      if (msg.event === 'request') requests.push(msg as RequestLogEntry);
      else if (msg.event === 'response') responses.push(msg as ResponseLogEntry);
      else if (msg.event === 'ready') { clearTimeout(timer); resolve({ port: msg.port!, url: msg.url! }); }
    });
    exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`replica ${o.id} exited (${code ?? signal}) before ready: ${stderr}`)); });
  });

  let stopping: Promise<void> | undefined;
  return {
    id: o.id, url: ready.url, port: ready.port, pid: child.pid!, child, requests, responses, exited,
    kill(signal: NodeJS.Signals = 'SIGKILL') { if (child.exitCode === null && child.signalCode === null) child.kill(signal); },
    stop(graceMs = 3_000) {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGCONT'); // a paused process cannot act on SIGTERM
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
    async setFault(fault: FaultInput) {
      if (!o.controlToken) throw new Error(`replica ${o.id} has no control token`);
      const res = await fetch(`${ready.url}/__control`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${o.controlToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(fault),
      });
      if (res.status !== 200) throw new Error(`replica ${o.id} control: ${res.status} ${await res.text()}`);
    },
  };
}
