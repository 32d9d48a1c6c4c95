// The simulator's events: a discriminated union of plain objects. Cancelled timers in the
// event heap stay there and are recognised on arrival (an attempt that is no longer current,
// a probe already answered), which is cheaper than deleting from a heap; the usual per-try
// timeout waits in a timer lane instead, and settling unlinks it (engine/timer-lane.ts).
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

/**
 * One try of a request on one server; also the server's job, the event of its pending step,
 * and its own timeout in the proxy's timeout lane (LaneTimer).
 */
export interface Attempt extends LaneTimer {
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
  /** Its timeout event when that could not wait in the lane; disarmed when the attempt settles. */
  heapTimer: TimeoutEvent | undefined;
}

/**
 * An attempt's timeout in the event heap, for the rare one that cannot wait in the timeout
 * lane (a deadline's remainder an ulp short of the lane's delay). Settling the attempt clears
 * `attempt`, so the queued event no longer keeps the request's objects alive.
 */
export interface TimeoutEvent {
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
  /** A lane for cancellable timeouts that usually wait `delayMs`; `fire` gets each that comes due. */
  timerLane(delayMs: number, fire: (attempt: Attempt) => void): TimerLane<Attempt>;
  /** As schedule(delayMs, …) but in `lane`, if that keeps it in time order; else nothing, and false. */
  tryScheduleInLane(lane: TimerLane<Attempt>, delayMs: number, attempt: Attempt): boolean;
}
