// Shared by the simulator tests: run a config in memory and keep what the engine reported.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { type RunConfig, parseExperiment } from '../../experiments/schema.ts';
import { Simulation } from '../../sim/model/simulation.ts';
import type { Recorder, RequestRecord, ServerSnapshot } from '../../experiments/records.ts';

export class MemoryRecorder implements Recorder {
  readonly bucketMs: number;
  readonly requests: RequestRecord[] = [];
  readonly attempts = new Map<string, { started: number; ok: number; failed: number }>();
  readonly buckets: Array<{ atMs: number; servers: ServerSnapshot[] }> = [];
  /** Every attempt start, in order: [serverId, atMs]. */
  readonly starts: Array<[string, number]> = [];

  constructor(bucketMs = 100) { this.bucketMs = bucketMs; }

  attemptStarted(serverId: string, atMs: number): void {
    this.of(serverId).started++;
    this.starts.push([serverId, atMs]);
  }
  attemptEnded(serverId: string, _atMs: number, ok: boolean): void {
    if (ok) this.of(serverId).ok++; else this.of(serverId).failed++;
  }
  requestDone(r: RequestRecord): void { this.requests.push({ ...r, servers: [...r.servers] }); }
  bucketEnd(atMs: number, servers: readonly ServerSnapshot[]): void { this.buckets.push({ atMs, servers: [...servers] }); }

  private of(id: string) {
    let a = this.attempts.get(id);
    if (!a) { a = { started: 0, ok: 0, failed: 0 }; this.attempts.set(id, a); }
    return a;
  }
}

/** Runs one validated config to the end. */
export function simulate(cfg: RunConfig, recorder = new MemoryRecorder()): { sim: Simulation; recorder: MemoryRecorder } {
  const sim = new Simulation(cfg, recorder);
  while (!sim.step(1_000_000)) { /* run to the end */ }
  return { sim, recorder };
}

/** Validates an experiment object and returns its runs' configs. */
export function configs(experiment: unknown): RunConfig[] {
  return parseExperiment(experiment, 'test').runs.map((r) => r.config);
}

/** sha256 of every file under `dir`, by relative path. */
export async function hashTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) await walk(p);
      else out[relative(dir, p)] = createHash('sha256').update(await readFile(p)).digest('hex');
    }
  };
  await walk(dir);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}
