// What the `npm run live -- --proxy <name>` tests of every proxy share: the small experiment
// CI runs, a results folder removed after the file, the rows of requests.csv, the requests
// each server served, and whether a process still runs.
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { workFolder } from './config-checks.ts';

/** Three servers (exponential, mean 2 ms, 4 at a time), 300 requests at 200/s from 20 clients on /home. */
export const CI_EXPERIMENT = {
  servers: { count: 3, template: { serviceTimeMs: { dist: 'exponential', mean: 2 }, concurrency: 4 } },
  workload: { requests: 300, arrival: { process: 'constant', ratePerSec: 200 }, clients: { count: 20 }, path: '/home' },
};

/** The same servers at weights 1, 2 and 3. */
export const WEIGHTED_SERVERS = { ...CI_EXPERIMENT.servers, overrides: { s2: { weight: 2 }, s3: { weight: 3 } } };

/** A folder for one file's runs (each run in a folder of its own below it), removed after the file. */
export function resultsFolders(name: string): () => string {
  const root = workFolder(`live-${name}`);
  return () => mkdtempSync(join(root, 'run-'));
}

export interface RequestRow { client: number; startMs: number; status: number; servers: string }

/** requests.csv of a run's folder, the columns these tests read. */
export function requestRows(dir: string): RequestRow[] {
  const [header, ...lines] = readFileSync(join(dir, 'requests.csv'), 'utf8').trim().split('\n');
  const cols = header.split(',');
  return lines.map((l) => {
    const v = l.split(',');
    return { client: Number(v[cols.indexOf('client')]), startMs: Number(v[cols.indexOf('startMs')]), status: Number(v[cols.indexOf('status')]), servers: v[cols.indexOf('servers')] };
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
