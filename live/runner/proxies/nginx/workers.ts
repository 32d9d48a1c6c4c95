// NGINX's worker processes, read from /proc (Linux): the reload waits for the old workers
// to stop accepting; npm run calibrate adds up the CPU time of all of them (the master
// only reads the config and signals; the workers proxy).
import { readFileSync } from 'node:fs';
import { childPids } from '../process-group.ts';

/** The master's child processes: its workers (the config has no cache, so no cache loader). */
export const workerPids = (masterPid: number): number[] => childPids(masterPid);

/**
 * Has this old worker stopped accepting? After a reload the master starts new workers,
 * sleeps 100 ms, then sends the old ones QUIT (os/unix/ngx_process_cycle.c,
 * ngx_master_process_cycle); an old worker renames itself "worker process is shutting
 * down" and closes its listeners in the same step (ngx_worker_process_cycle), so from the
 * new title on it takes no new connection. Gone counts as stopped.
 */
export function stoppedAccepting(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('shutting down');
  } catch {
    return true;
  }
}
