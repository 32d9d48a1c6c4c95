// The simulator's events: a discriminated union of plain objects. Cancelled timers in the
// event heap stay there and are recognised on arrival (an attempt that is no longer current,
// a probe already answered), which is cheaper than deleting from a heap; a timer in a lane
// (the usual per-try timeout) is cancelled in place by its ticket.
// The two objects every request makes are their own events, so a request allocates no event
// of its own: a SimRequest is its arrival, its receipt at the proxy and its retry, an Attempt
// its connect, its arrival at the server, its completion and its reply. `kind` says which
// step is pending; each has at most one pending at a time, since each step schedules the
// next only once it has run. The one exception, a crash answering jobs whose completion is
// still queued, sends a separate `reset-reply` event.
import type { Flow } from '../../core/router.ts';
import type { AttemptOutcome, Backend } from '../../core/types.ts';
import type { Change, Fault } from '../../experiments/schema.ts';
import type { Lane } from '../engine/lanes.ts';
import type { LaneTimer, TimerLane } from '../engine/timer-lane.ts';
import type { ServerModel } from './server.ts';
import type { CpuJob } from './proxy-cpu.ts';
import type { ProxyModel } from './proxy.ts';

/** A client request inside the simulator; the event of its pending step. */
export interface SimRequest {
  kind: 'arrival' | 'proxy-receive' | 'retry';
  readonly id: number;
  readonly client: number;
  readonly user: number | undefined;
  /** When the client sent it (set on arrival). */
  startMs: number;
  /** The balancer instance's proxy the request reached (experiments/balancers.ts reachOf). */
  readonly proxy: ProxyModel;
  /** A replayed trace's own method and service time; else the workload's method and the server's distribution. */
  readonly method?: string;
  readonly serviceMs?: number;
  flow: Flow | undefined;
  /** The attempt the proxy is waiting for; replies and timers of any other are stale. */
  current: Attempt | undefined;
  /** HAProxy mode: the backend-queue wait the request is in; timers of any other are stale. */
  waiting: QueueWait | undefined;
}

/** One stay of a request in the HAProxy backend queue (a request may queue again on a retry). */
export interface QueueWait {
  readonly request: SimRequest;
}

/** One try of a request on one server; also the server's job, and the event of its pending step. */
export interface Attempt {
  kind: 'connect' | 'server-arrive' | 'service-done' | 'attempt-reply';
  /** What the reply carries back (an `attempt-reply`). */
  outcome: AttemptOutcome | undefined;
  readonly request: SimRequest;
  readonly backend: Backend;
  readonly server: ServerModel;
  /** The server's epoch when the job was accepted: a crash in between voids it (and its pending completion). */
  epoch: number;
  /** Index in the server's in-service list while being served. */
  slot: number;
  /** Its timeout event, disarmed when the attempt settles (see TimeoutEvent). */
  timer: TimeoutEvent | undefined;
}

/**
 * A timeout that is usually cancelled: settling the attempt takes it out of the proxy's
 * timeout lane, or, in the rare case it waits in the event heap, clears `attempt`, so the
 * queued event no longer keeps the request's objects alive (otherwise every request would
 * survive for the full timeout and the garbage collector would promote and sweep them all).
 */
export interface TimeoutEvent extends LaneTimer {
  kind: 'attempt-timeout';
  attempt: Attempt | undefined;
}

export interface Probe {
  readonly serverId: string;
  /** The instance whose prober sent it. */
  readonly balancer: number;
  answered: boolean;
}

export type SimEvent =
  | SimRequest
  | Attempt
  /** A crashed server's reset for a job whose own completion may still be queued. */
  | { kind: 'reset-reply'; attempt: Attempt }
  | TimeoutEvent
  /** A proxy CPU worker finished a job (see proxy-cpu.ts). */
  | { kind: 'cpu-done'; job: CpuJob }
  /** HAProxy mode: `timeout queue` for a request waiting in the backend queue. */
  | { kind: 'queue-timeout'; wait: QueueWait }
  | { kind: 'probe'; serverId: string; balancer: number }
  | { kind: 'probe-arrive'; probe: Probe }
  | { kind: 'probe-result'; probe: Probe; ok: boolean }
  | { kind: 'fault'; fault: Fault }
  | { kind: 'fault-end'; fault: Fault }
  | { kind: 'restart'; serverId: string; epoch: number }
  | { kind: 'change'; change: Change }
  /** The balancer's next deadline (an ejection running out): time alone changes routing. */
  | { kind: 'balancer-deadline'; balancer: number }
  | { kind: 'tick' };

/** How the model schedules: delay from now; priority 0 runs first at equal times. */
export interface Scheduler {
  readonly nowMs: number;
  schedule(delayMs: number, event: SimEvent, priority?: 0 | 1): void;
  /** A FIFO lane for one recurring delay (constant hops, CPU costs): its events share one queue entry. */
  lane(delayMs: number): Lane<SimEvent>;
  scheduleInLane(lane: Lane<SimEvent>, event: SimEvent): void;
  /** A lane for cancellable timeouts that usually wait `delayMs`. */
  timerLane(delayMs: number): TimerLane<TimeoutEvent>;
  /** As schedule(delayMs, timer), in `lane` while that keeps it in time order: whether it went there. */
  scheduleInLaneAfter(lane: TimerLane<TimeoutEvent>, delayMs: number, timer: TimeoutEvent): boolean;
}
