// Sweep points and variants on worker threads (`npm run sim -- --jobs N`). Each planned run
// is an independent seeded simulation writing its own folder, so which thread runs it, and
// when, cannot change a byte: the caller gets the results back in plan order and writes the
// index summary.json from them exactly as a sequential run does.
// A worker is this very module (import.meta.filename: sim/parallel.ts under tsx, the CLI
// bundle when started by scripts/cli.mjs, whose entry then skips its main on a worker).
import { getCompileCacheDir } from 'node:module';
import { dirname } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { ExperimentPlan, PlannedRun } from '../experiments/schema.ts';
import type { RunResult } from '../experiments/run-files.ts';
import { type RunFileOptions, runOne } from './run-one.ts';

const ROLE = 'fulcrum-sim-runs';

type ToWorker = { index: number; planName: string; run: PlannedRun; opts: RunFileOptions };
type FromWorker =
  | { kind: 'progress'; index: number; share: number }
  | { kind: 'done'; index: number; result: Omit<RunResult, 'run'> }
  | { kind: 'failed'; index: number; message: string; stack?: string };

/**
 * A worker thread is ready ~0.16 s after it is started (~0.15 s of CPU: Node's own start,
 * compiling and running the bundle's modules, zod's schemas among them), about as long as
 * simulating 80 k requests at ~2 µs each (the bench's sweep model). Two workers only beat
 * one thread once each has more than that, so each gets at least this much work; smaller
 * plans run in the calling thread.
 */
export const REQUESTS_PER_WORKER_MIN = 100_000;

/** Worker threads worth starting for `plan` with at most `jobs`: 0 or 1 means none. */
export function workersFor(plan: ExperimentPlan, jobs: number): number {
  const requests = plan.runs.reduce((sum, run) => sum + expectedRequests(run), 0);
  return Math.min(jobs, plan.runs.length, Math.floor(requests / REQUESTS_PER_WORKER_MIN));
}

/** The run's request count, or its open-loop rate × duration; unknown (a trace, a closed loop by time) counts as large. */
function expectedRequests({ config: { workload: w } }: PlannedRun): number {
  if (w.requests !== undefined) return w.requests;
  if (w.durationMs !== undefined && w.arrival && 'ratePerSec' in w.arrival) return (w.durationMs * w.arrival.ratePerSec) / 1000;
  return Infinity;
}

/** How far each run is: `progress` between slices (0..1), `done` once its files are closed. */
export interface RunEvents {
  progress(index: number, share: number): void;
  done(index: number): void;
}

/**
 * Runs every planned run on up to `jobs` worker threads, each taking the next run when it
 * finishes one; the results come back in plan order. A failure hands out no more runs; once
 * the runs in flight end, the failure of the lowest run index is rethrown with the worker's
 * message and stack — the one a sequential run would have met, whatever thread failed first.
 */
export async function runInWorkers(plan: ExperimentPlan, opts: RunFileOptions, jobs: number, events: RunEvents): Promise<RunResult[]> {
  const results: RunResult[] = new Array(plan.runs.length);
  const workers: Worker[] = [];
  let next = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const retired = new Set<Worker>();
      const failures = new Map<number, Error>();
      const giveWork = (worker: Worker): void => {
        if (next < plan.runs.length && failures.size === 0) {
          const index = next++;
          worker.postMessage({ index, planName: plan.name, run: plan.runs[index], opts } satisfies ToWorker);
          return;
        }
        retired.add(worker);
        void worker.terminate();
        if (retired.size < workers.length) return;
        if (failures.size === 0) resolve();
        else reject(failures.get(Math.min(...failures.keys())));
      };
      for (let i = 0; i < Math.min(jobs, plan.runs.length); i++) {
        const worker = new Worker(import.meta.filename, { workerData: { role: ROLE }, env: workerEnv() });
        workers.push(worker);
        worker.on('message', (msg: FromWorker) => {
          if (msg.kind === 'progress') { events.progress(msg.index, msg.share); return; }
          if (msg.kind === 'failed') failures.set(msg.index, Object.assign(new Error(msg.message), { stack: msg.stack }));
          else {
            results[msg.index] = { ...msg.result, run: plan.runs[msg.index] };
            events.done(msg.index);
          }
          giveWork(worker);
        });
        worker.on('error', reject);
        worker.on('exit', (code) => { if (!retired.has(worker)) reject(new Error(`a simulation worker stopped (exit code ${code})`)); });
      }
      for (const worker of workers) giveWork(worker);
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}

/**
 * The variables a worker starts with: this thread's, plus its compile cache (scripts/cli.mjs
 * turns it on), which a worker thread does not inherit but reads from NODE_COMPILE_CACHE.
 * Node keeps the entries in a folder per Node version inside the one it was given: that
 * given folder is what the variable names.
 */
function workerEnv(): NodeJS.ProcessEnv {
  const cacheDir = getCompileCacheDir();
  return cacheDir === undefined ? process.env : { ...process.env, NODE_COMPILE_CACHE: dirname(cacheDir) };
}

/** The worker's side: one run per message, progress and the result (or the error) back. */
function serveRuns(): void {
  const port = parentPort!;
  port.on('message', (task: ToWorker) => {
    const send = (msg: FromWorker) => port.postMessage(msg);
    runOne({ name: task.planName }, task.run, task.opts, (share) => send({ kind: 'progress', index: task.index, share })).then(
      ({ summary, eventsHandled }) => send({ kind: 'done', index: task.index, result: { summary, eventsHandled } }),
      (e: unknown) => send({ kind: 'failed', index: task.index, message: (e as Error).message ?? String(e), stack: (e as Error).stack }),
    );
  });
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === ROLE) serveRuns();
