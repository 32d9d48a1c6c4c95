// `--workers N`: N proxy processes behind one listening port, each with its own balancer —
// what NGINX's worker_processes (without a shared `zone`) and Envoy's worker threads do.
// Node's cluster, not worker threads: a process per worker keeps each balancer's state, health
// checks and attempt log wholly its own (one crash takes one worker), and the primary hands out accepted connections
// round robin (cluster's default scheduling on Linux), as one accept queue shared by NGINX
// workers does per connection. The primary owns no proxy: it forks, waits for every worker's
// ready message, prints one ready line, and on SIGTERM, SIGINT or the end of stdin stops the
// workers and joins their attempt logs into the one file asked for.
import cluster, { type Worker } from 'node:cluster';
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { instanceSeed } from '../../core/rng.ts';
import type { ListenAddress } from './start.ts';

const INDEX_ENV = 'FULCRUM_WORKER_INDEX';

/** What a worker tells the primary once it listens. */
export interface WorkerReady {
  event: 'ready';
  url: string;
  adminUrl: string | null;
  policy: string;
  seed: string | number;
  backends: string[];
  pid: number;
}

/** This process's worker index under `--workers`, or undefined when it is not a cluster worker. */
export function workerIndex(): number | undefined {
  return cluster.isWorker ? Number(process.env[INDEX_ENV]) : undefined;
}

/** A worker's own settings: its seed stream (as the simulator's instance `index`), attempt-log part and admin listener. */
export function workerSettings(
  index: number, o: { seed?: string; attemptLog?: string; admin: ListenAddress | false },
): { seed?: string; attemptLog?: string; admin: ListenAddress | false } {
  return {
    seed: o.seed === undefined ? undefined : String(instanceSeed(o.seed, index)),
    attemptLog: o.attemptLog === undefined ? undefined : partOf(o.attemptLog, index),
    // Every worker needs its own admin API (a change must reach each balancer): port P + index, or one the OS picks.
    admin: o.admin === false ? o.admin : { ...o.admin, port: o.admin.port ? o.admin.port + index : 0, exclusive: true },
  };
}

const partOf = (file: string, index: number) => `${file}.worker-${index}`;

/** Runs the primary until the workers are stopped; resolves with the exit code. */
export async function runPrimary(count: number, o: { attemptLog?: string; stopOnStdinEnd: boolean }): Promise<number> {
  const workers: Worker[] = [];
  const exited = new Map<Worker, Promise<number>>();
  let stopping = false;
  const stopAll = async (): Promise<void> => {
    stopping = true;
    for (const w of workers) if (w.process.exitCode === null && w.process.signalCode === null) w.process.kill('SIGTERM');
    await Promise.all(exited.values());
  };
  const ready = await new Promise<WorkerReady[] | number>((resolve) => {
    const lines: WorkerReady[] = [];
    for (let index = 0; index < count; index++) {
      const w = cluster.fork({ [INDEX_ENV]: String(index) });
      workers.push(w);
      exited.set(w, new Promise((done) => w.once('exit', (code) => done(code ?? 1))));
      w.on('message', (m: WorkerReady) => {
        if (m.event !== 'ready') return;
        lines[index] = m;
        if (lines.filter(Boolean).length === count) resolve(lines);
      });
      // A worker that dies before it listens (bad flags, a busy port) ends the start: its own stderr said why.
      w.once('exit', (code) => { if (!stopping && lines.filter(Boolean).length < count) resolve(code || 1); });
    }
  });
  if (typeof ready === 'number') {
    await stopAll();
    return ready;
  }
  process.stdout.write(JSON.stringify({
    ...ready[0], pid: process.pid, workers: ready.map((r) => ({ pid: r.pid, adminUrl: r.adminUrl, seed: r.seed })),
  }) + '\n');

  const code = await new Promise<number>((resolve) => {
    const stop = (why: string, exitCode: number) => {
      if (stopping) return;
      process.stderr.write(`proxy: ${why}, stopping ${count} workers\n`);
      void stopAll().then(() => resolve(exitCode));
    };
    process.on('SIGTERM', () => stop('SIGTERM', 0));
    process.on('SIGINT', () => stop('SIGINT', 0));
    if (o.stopOnStdinEnd) process.stdin.on('end', () => stop('stdin ended', 0)).on('error', () => stop('stdin failed', 0)).resume();
    for (const w of workers) w.once('exit', (c) => stop(`worker ${w.process.pid} exited (${c})`, 1));
  });
  if (o.attemptLog !== undefined) await joinParts(o.attemptLog, count);
  return code;
}

/** The workers' attempt logs, one after another, into `file` (each part's lines are whole: a worker flushes on SIGTERM). */
async function joinParts(file: string, count: number): Promise<void> {
  await writeFile(file, '');
  for (let index = 0; index < count; index++) {
    const part = partOf(file, index);
    await appendFile(file, await readFile(part).catch(() => ''));
    await rm(part, { force: true });
  }
}
