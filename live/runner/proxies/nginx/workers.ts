// NGINX's worker processes, read from /proc (Linux): the reload waits for the old workers
// to stop accepting, and npm run calibrate adds up the CPU time of all of them (the master
// only reads the config and signals; the workers proxy).
import { readFileSync } from 'node:fs';

/** The master's child processes (its workers, and briefly a cache loader if one is configured); [] once it is gone. */
export function workerPids(masterPid: number): number[] {
  try {
    return readFileSync(`/proc/${masterPid}/task/${masterPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

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
