// What the `npm run live -- --proxy <name>` tests of every proxy share: the small experiment
// CI runs, the run itself with its results in a folder removed after the file, the rows of
// requests.csv, the requests each server served, and whether a process still runs.
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { ProxyName } from '../../experiments/proxies.ts';
import { parseExperiment } from '../../experiments/schema.ts';
import { runLivePlan } from '../../live/runner/run.ts';
import { ProcessRuntime } from '../../live/runner/runtime/process.ts';
import { workFolder } from '../work-folder.ts';

type LiveRunResult = Awaited<ReturnType<typeof runLivePlan>>[number];

/** Three servers (exponential, mean 2 ms, 4 at a time), 300 requests at 200/s from 20 clients on /home. */
export const CI_EXPERIMENT = {
  servers: { count: 3, template: { serviceTimeMs: { dist: 'exponential', mean: 2 }, concurrency: 4 } },
  workload: { requests: 300, arrival: { process: 'constant', ratePerSec: 200 }, clients: { count: 20 }, path: '/home' },
};

/** The same servers at weights 1, 2 and 3. */
export const WEIGHTED_SERVERS = { ...CI_EXPERIMENT.servers, overrides: { s2: { weight: 2 }, s3: { weight: 3 } } };

/**
 * `npm run live -- --proxy <proxy>` as the tests call it: each run on replica processes of its
 * own, its results (requests.csv too) in a folder of its own under the file's, removed after the file.
 */
export function liveRuns(proxy: ProxyName) {
  const root = workFolder(`live-${proxy}`);
  const out = (): string => mkdtempSync(join(root, 'run-'));
  return {
    out,
    async run(experiment: Record<string, unknown> & { name: string }): Promise<{ result: LiveRunResult; dir: string; runtime: ProcessRuntime }> {
      const runtime = new ProcessRuntime();
      const dir = out();
      const [result] = await runLivePlan(parseExperiment(experiment, experiment.name), { runtime, proxy, outDir: dir, writeRequests: true, log: () => {} });
      return { result, dir, runtime };
    },
  };
}

/** Every request answered on the first try, `servers` requests each, results marked as the proxy's, no replica left running. */
export function expectExactRun(run: { result: LiveRunResult; dir: string; runtime: ProcessRuntime }, proxy: ProxyName, servers: Record<string, number>): void {
  const total = Object.values(servers).reduce((a, b) => a + b, 0);
  expect(run.result.summary.requests).toMatchObject({ total, ok: total, failed: 0, retries: 0 });
  expect(requestsByServer(run.result.summary.servers)).toEqual(servers);
  expect(JSON.parse(readFileSync(join(run.dir, 'summary.json'), 'utf8')).proxy).toBe(proxy);
  expect(run.runtime.pids.filter(isRunning)).toEqual([]);
}

export interface RequestRow { client: number; startMs: number; endMs: number; status: number; servers: string }

/** requests.csv of a run's folder, the columns these tests read. */
export function requestRows(dir: string): RequestRow[] {
  const [header, ...lines] = readFileSync(join(dir, 'requests.csv'), 'utf8').trim().split('\n');
  const cols = header.split(',');
  return lines.map((l) => {
    const v = l.split(',');
    return { client: Number(v[cols.indexOf('client')]), startMs: Number(v[cols.indexOf('startMs')]), endMs: Number(v[cols.indexOf('endMs')]), status: Number(v[cols.indexOf('status')]), servers: v[cols.indexOf('servers')] };
  });
}

/** The requests each server served, from a run's summary. */
export const requestsByServer = (servers: Record<string, { requests: number }>): Record<string, number> =>
  Object.fromEntries(Object.entries(servers).map(([id, s]) => [id, s.requests]));

/** Running: it exists and is not a zombie (a killed child whose runner exited waits for init to reap it). */
export function isRunning(pid: number): boolean {
  try { process.kill(pid, 0); } catch { return false; }
  try { return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z'; } catch { return false; }
}
