// CPU time of a running process's threads, read from /proc (Linux). schedstat gives the
// time on CPU in ns; where the kernel does not keep it, stat's utime + stime (clock ticks,
// 10 ms each) stand in.
import { readFileSync, readdirSync } from 'node:fs';
import { childPids } from '../runner/proxies/process-group.ts';

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on every Linux build that matters). */
const TICKS_PER_SEC = 100;

/** Whose CPU time is the proxy's: `pid`'s main thread, all its threads, or all threads of its child processes. */
export type CpuThreads = 'main' | 'all' | 'children';

/**
 * CPU ms used so far: `pid`'s main thread ('main': the event loop of a Node process), every
 * thread ('all': HAProxy's nbthread workers), or every thread of its child processes
 * ('children': NGINX's worker processes — the master only reads the config and signals).
 * A child that exits takes its time with it (calibration does not reload NGINX).
 */
export function threadCpuMs(pid: number, threads: CpuThreads): number {
  if (threads === 'children') return childPids(pid).reduce((sum, child) => sum + threadCpuMs(child, 'all'), 0);
  const tids = threads === 'main' ? [pid] : readdirSync(`/proc/${pid}/task`).map(Number);
  let sum = 0;
  for (const tid of tids) {
    try {
      sum += taskCpuMs(pid, tid);
    } catch {
      // the thread ended between the listing and the read: its time is gone with it
    }
  }
  return sum;
}

function taskCpuMs(pid: number, tid: number): number {
  const runNs = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
  if (runNs > 0) return runNs / 1e6;
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SEC;
}

/** Threads of `pid` now. */
export function threadCount(pid: number): number {
  return readdirSync(`/proc/${pid}/task`).length;
}
