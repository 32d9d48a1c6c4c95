// Replicas as child processes on loopback ports, supervised like Docker's
// `restart: always`: a replica that dies without being asked to is started again after
// the experiment's restart delay.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Replica, ReplicaSpec, Runtime } from './types.ts';
import { serverArgs } from './server-args.ts';
import { waitForHttp } from './wait.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

class ProcessReplica implements Replica {
  restarts = 0;
  /** 0 until the first start reports the port it bound; restarts reuse it. */
  private port: number;
  private child: ChildProcess | undefined;
  private stopping = false;
  private restarting: Promise<void> | undefined;

  constructor(
    private readonly spec: ReplicaSpec,
    private readonly log: (line: string) => void,
    private readonly onSpawn: (pid: number) => void,
  ) {
    this.port = spec.port ?? 0;
  }

  get url(): string { return `http://${this.spec.host}:${this.port}`; }

  get id(): string { return this.spec.id; }
  pid(): number | undefined { return this.child?.pid; }

  async launch(): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', ...serverArgs(this.spec, this.port)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      // A scrubbed environment: the replica needs nothing of ours.
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
    });
    this.child = child;
    if (child.pid) this.onSpawn(child.pid);
    child.stderr?.setEncoding('utf8').on('data', (d: string) => this.log(`[${this.id}] ${d.trimEnd()}`));
    child.once('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      if (this.stopping || !this.spec.restart) return;
      this.log(`[${this.id}] exited (${signal ?? code}); restarting in ${this.spec.restartDelayMs ?? 0} ms`);
      this.restarting = this.restartLater();
    });
    if (this.port === 0) this.port = await reportedPort(child, this.id);
    else child.stdout?.resume(); // nothing to read, but the pipe must not fill up
    this.log(`[${this.id}] pid ${child.pid} on ${this.url}`);
    await this.ready();
  }

  private async restartLater(): Promise<void> {
    await sleep(this.spec.restartDelayMs ?? 0);
    if (this.stopping) return;
    this.restarts++;
    await this.launch().catch((err: Error) => this.log(`[${this.id}] restart failed: ${err.message}`));
  }

  ready(timeoutMs = 15_000): Promise<void> {
    return waitForHttp(`${this.url}/heartbeat`, timeoutMs);
  }

  async crash(): Promise<void> {
    const child = this.child;
    if (!child?.pid) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGCONT'); // a paused process must die too
    child.kill('SIGKILL');
    await exited;
  }

  pause(): void { this.child?.kill('SIGSTOP'); }
  resume(): void { this.child?.kill('SIGCONT'); }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (child?.pid) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(forced);
    }
    await this.restarting;
  }
}

/**
 * The port a replica started on port 0 bound, from its `ready` line (server/cli.ts). The
 * replica holds the port from bind to exit: no other process can take it in between, as
 * it could between a parent's probe-bind, release and the child's bind.
 */
function reportedPort(child: ChildProcess, id: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let event: { event?: string; port?: unknown } | undefined;
        try { event = JSON.parse(line) as typeof event; } catch { continue; }
        if (event?.event === 'ready' && typeof event.port === 'number') {
          child.stdout!.off('data', onData);
          child.off('exit', onExit);
          child.stdout!.resume();
          resolve(event.port);
          return;
        }
      }
    };
    const onExit = (code: number | null, signal: string | null) => reject(new Error(`replica ${id} exited (${signal ?? code}) before reporting its port`));
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.once('exit', onExit);
  });
}

export class ProcessRuntime implements Runtime {
  readonly name = 'process' as const;
  private readonly replicas: ProcessReplica[] = [];

  constructor(private readonly log: (line: string) => void = () => {}) {}

  async start(spec: ReplicaSpec): Promise<Replica> {
    const replica = new ProcessReplica(spec, this.log, (pid) => this.pids.push(pid));
    this.replicas.push(replica);
    await replica.launch();
    return replica;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.stop()));
  }

  /** Every PID this runtime ever started (tests check they are all gone). */
  readonly pids: number[] = [];

  /** Synchronous last-resort cleanup for process exit paths: SIGKILL every child still alive. */
  killAllNow(): void {
    for (const r of this.replicas) {
      const pid = r.pid();
      if (pid) { try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ } }
    }
  }
}
