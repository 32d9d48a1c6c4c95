// A lane for timers that are usually cancelled (per-try timeouts): like a Lane, one heap
// entry for many timers of one delay, but it holds only the live ones. Each timer carries its
// own links (the timer is the model's own object, an attempt), so scheduling and cancelling
// are a few pointer writes and allocate nothing, and a cancelled timer is gone at once: it
// retains nothing and costs no trip through the heap. A due timer goes to the lane's own
// `fire`, not to the Simulator's handler: the object may be another event's too.
// The heap entry is keyed by the head when it was placed; a cancelled head leaves it early,
// and the loop then re-keys it to the new head (Simulator.run), so only the head's cost is lazy.

/** What a timer carries to sit in a TimerLane. */
export interface LaneTimer {
  laneAtMs: number;
  /** Its scheduling number (the heap's seq), so ties with other events keep scheduling order. */
  laneSeq: number;
  lanePrev: LaneTimer | undefined;
  laneNext: LaneTimer | undefined;
  /** Queued in a lane now (false once it fired or was cancelled, and for a timer in the heap). */
  inLane: boolean;
}

export class TimerLane<T extends LaneTimer> {
  /** Live timers. */
  length = 0;
  /** The seq the lane's heap entry was placed with; -1 while it has none (the Simulator keeps it). */
  keyedSeq = -1;
  /** Due time of the newest timer pushed since the lane was placed in the heap: later ones keep the order. */
  lastPushedMs = -Infinity;
  private head: T | undefined;
  private tail: T | undefined;

  constructor(readonly delayMs: number, readonly fire: (timer: T) => void) {}

  /** Due time of the oldest live timer (call only when length > 0). */
  get headTime(): number { return this.head!.laneAtMs; }
  /** Scheduling number of the oldest live timer (call only when length > 0). */
  get headSeq(): number { return this.head!.laneSeq; }

  push(atMs: number, seq: number, timer: T): void {
    timer.laneAtMs = atMs;
    timer.laneSeq = seq;
    timer.lanePrev = this.tail;
    timer.laneNext = undefined;
    timer.inLane = true;
    if (this.tail) this.tail.laneNext = timer;
    else this.head = timer;
    this.tail = timer;
    this.lastPushedMs = atMs;
    this.length++;
  }

  /** Drops `timer` if it is still queued here. */
  cancel(timer: T): void {
    if (timer.inLane) this.unlink(timer);
  }

  /** Removes and returns the oldest live timer (call only when length > 0). */
  shift(): T {
    const timer = this.head!;
    this.unlink(timer);
    return timer;
  }

  private unlink(timer: T): void {
    const prev = timer.lanePrev as T | undefined;
    const next = timer.laneNext as T | undefined;
    if (prev) prev.laneNext = next;
    else this.head = next;
    if (next) next.lanePrev = prev;
    else this.tail = prev;
    timer.lanePrev = undefined;
    timer.laneNext = undefined;
    timer.inLane = false;
    this.length--;
  }
}
