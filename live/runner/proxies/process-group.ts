// A proxy under test as a child process in a process group of its own: started, found
// ready by the JSON line it prints (never by a sleep), stopped with SIGTERM and, past a
// deadline, SIGKILL to the whole group. Every group still alive is recorded here, so a
// runner that is interrupted (Ctrl-C) or exits can kill them all synchronously.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** Process group → when its leader has exited (known for the ones started here). */
const alive = new Map<number, Promise<void> | undefined>();

/**
 * Records a process group a launcher started some other way, so Ctrl-C kills it too;
 * returns the call that forgets it once it has exited.
 */
export function trackGroup(pgid: number, exited?: Promise<void>): () => void {
  alive.set(pgid, exited);
  return () => alive.delete(pgid);
}

/** SIGKILL to every group still running (the runner's exit path: nothing can be awaited there). */
export function killAllGroupsNow(): void {
  for (const pgid of alive.keys()) signalGroup(pgid, 'SIGKILL');
  alive.clear();
}

/** SIGKILL to every group still running; resolves once their leaders are gone (at most `timeoutMs`). The Ctrl-C path. */
export async function killAllGroups(timeoutMs = 3_000): Promise<void> {
  const exits = [...alive.values()];
  killAllGroupsNow();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(exits), new Promise((resolve) => { timer = setTimeout(resolve, timeoutMs); })]);
  clearTimeout(timer);
}

export interface GroupProcess {
  readonly pid: number;
  /** The parsed ready line. */
  readonly ready: Record<string, unknown>;
  /** SIGTERM to the group, SIGKILL after `deadlineMs`; resolves when the process has exited. Idempotent. */
  stop(deadlineMs: number): Promise<void>;
}

export interface GroupSpawn {
  /** For messages: `fulcrum`, `haproxy` … */
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env: NodeJS.ProcessEnv;
  /** Is this stdout line the ready event? (JSON lines are parsed first; others are ignored.) */
  isReady: (line: Record<string, unknown>) => boolean;
  readyTimeoutMs: number;
  /** Each stderr line. */
  log: (line: string) => void;
  /**
   * Give the process a stdin pipe that stays open while this process lives: a process that
   * stops when its stdin ends (Fulcrum's --stop-on-stdin-end) then dies with the runner,
   * even when the runner is SIGKILLed and nothing here runs.
   */
  stdinLifeline?: boolean;
}

export async function startGroupProcess(o: GroupSpawn): Promise<GroupProcess> {
  const child = spawn(o.command, o.args, { cwd: o.cwd, env: o.env, detached: true, stdio: [o.stdinLifeline ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  child.stdin?.on('error', () => {}); // the process is gone: nothing to tell it
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${o.name}: could not start ${o.command}`);
  let forget = () => {};
  const exited = new Promise<void>((resolve) => child.once('exit', () => { forget(); child.stdin?.destroy(); resolve(); }));
  forget = trackGroup(pid, exited);
  const stderrTail: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderrTail.push(line);
    if (stderrTail.length > 20) stderrTail.shift();
    o.log(`[${o.name}] ${line}`);
  });
  let stopping: Promise<void> | undefined;
  const stop = (deadlineMs: number) => (stopping ??= (async () => {
    if (child.exitCode === null && child.signalCode === null) signalGroup(pid, 'SIGTERM');
    const force = setTimeout(() => signalGroup(pid, 'SIGKILL'), deadlineMs);
    await exited;
    clearTimeout(force);
    signalGroup(pid, 'SIGKILL'); // anything it left in its group
  })());
  try {
    const ready = await readyLine(child, o, exited, () => stderrTail.join('\n'));
    return { pid, ready, stop };
  } catch (err) {
    await stop(1_000);
    throw err;
  }
}

function readyLine(child: ChildProcess, o: GroupSpawn, exited: Promise<void>, stderr: () => string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${o.name} not ready after ${o.readyTimeoutMs} ms: ${stderr()}`)), o.readyTimeoutMs);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let parsed: unknown;
      try { parsed = JSON.parse(line); } catch { return; }
      if (typeof parsed === 'object' && parsed !== null && o.isReady(parsed as Record<string, unknown>)) {
        clearTimeout(timer);
        resolve(parsed as Record<string, unknown>);
      }
    });
    void exited.then(() => { clearTimeout(timer); reject(new Error(`${o.name} exited before it was ready: ${stderr()}`)); });
  });
}

/** A signal to a process group, or to its leader when the group cannot take it. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try { process.kill(-pgid, signal); } catch {
    try { process.kill(pgid, signal); } catch { /* gone, group and leader */ }
  }
}

/** The child processes of `pid` now, from /proc (Linux; e.g. NGINX's workers under its master); [] once it is gone. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
