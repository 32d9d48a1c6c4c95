// The event loop: a clock that jumps from event to event (SimPy's Environment, reduced).
// It knows nothing about servers or requests; the model hands it a handler.
//
// Order: events run by (time, priority, scheduling order), whether they were scheduled
// plainly, in a lane or beside the heap (each keeps the scheduling number it got when
// scheduled); where an event waits only changes what it costs.
// Zero-delay rule: a step that takes 0 ms is a nested call, never an event. When a sampled
// delay is exactly 0 (an absent or constant-0 network hop, a 0 ms connect), the model calls
// the next handler directly, so the consequence happens inside the event that caused it,
// before any other event already due at the same time, and costs no queue entry. Only
// schedule(0, …) would put it behind those events; the model never does that for a hop.
// test/sim/zero-delay.test.ts holds the model to this.
import { EventQueue, type Priority, tieOf } from './heap.ts';
import { Lane } from './lanes.ts';
import { type LaneTimer, TimerLane } from './timer-lane.ts';

/** Heap tag of a lane entry (plain events carry 0). */
const LANE = 1;

/** What the loop reads of either kind of lane. */
type AnyLane<E> = Lane<E> | TimerLane<LaneTimer>;

export class Simulator<E> {
  /** Simulated time in ms; only ever moves forward. */
  nowMs = 0;
  /** Events handled so far (the benchmark's unit). */
  eventsHandled = 0;
  private readonly queue = new EventQueue<E | AnyLane<E>>();
  private stopped = false;
  /** The pending event of the stream (scheduleStreamAt), its time and tie-break key. */
  private streamEvent: E | undefined = undefined;
  private streamAtMs = Infinity;
  private streamTie = 0;

  constructor(private readonly handle: (event: E) => void) {}

  /** Schedules `event` `delayMs` from now. Priority 0 runs before 1 at equal times. */
  schedule(delayMs: number, event: E, priority: Priority = 1): void {
    this.queue.push(this.nowMs + delayMs, event, priority);
  }

  /** Schedules `event` at an absolute time, never in the past. */
  scheduleAt(atMs: number, event: E, priority: Priority = 1): void {
    this.queue.push(atMs > this.nowMs ? atMs : this.nowMs, event, priority);
  }

  /**
   * A FIFO lane for events that all wait exactly `delayMs` (constant network hops, CPU
   * costs): its events share one heap entry (see lanes.ts). Make one per recurring delay and
   * keep it; random delays belong in schedule().
   */
  lane(delayMs: number): Lane<E> {
    return new Lane<E>(delayMs);
  }

  /** A lane for cancellable timers that usually wait `delayMs`; `fire` handles each that comes due (see timer-lane.ts). */
  timerLane<T extends LaneTimer>(delayMs: number, fire: (timer: T) => void): TimerLane<T> {
    return new TimerLane<T>(delayMs, fire);
  }

  /** Schedules `event` `lane.delayMs` from now, behind the lane's earlier events. */
  scheduleInLane(lane: Lane<E>, event: E): void {
    const atMs = this.nowMs + lane.delayMs; // never before the lane's newest: the clock only moves on
    const seq = this.queue.takeSeq();
    if (lane.keyedSeq < 0) this.place(atMs, lane, seq);
    lane.push(atMs, seq, event);
  }

  /**
   * Schedules `timer` `delayMs` from now in `lane`, at the time and with the scheduling number
   * schedule() would give it, if it is due no earlier than the lane's newest timer; else it
   * schedules nothing and returns false, and the caller schedules an event of its own instead
   * (cancelling that one is the handler's job). For timers that usually wait the lane's delay
   * but may be an ulp off it: a deadline's remainder, deadlineMs − nowMs, is 30 000 − 1e-11 as
   * often as 30 000. A lane timer is cancelled with `lane.cancel`: it is then not handled, not
   * counted, the clock not moved to it.
   */
  tryScheduleInLane<T extends LaneTimer>(lane: TimerLane<T>, delayMs: number, timer: T): boolean {
    const atMs = this.nowMs + delayMs;
    // While the lane is in the heap its entry's key is no later than lastPushedMs: stay behind it.
    if (lane.keyedSeq >= 0 && atMs < lane.lastPushedMs) return false;
    const seq = this.queue.takeSeq();
    if (lane.keyedSeq < 0) this.place(atMs, lane as unknown as TimerLane<LaneTimer>, seq); // the loop reads only its head and fire
    lane.push(atMs, seq, timer);
    return true;
  }

  /** Puts `lane` into the heap under its head's time and seq. */
  private place(atMs: number, lane: AnyLane<E>, seq: number): void {
    this.queue.push(atMs, lane, 1, LANE, seq);
    lane.keyedSeq = seq;
  }

  /**
   * Schedules `event` at `atMs` (never in the past), as scheduleAt() would, in the one place
   * beside the heap kept for a stream whose events are scheduled one at a time, each once the
   * one before it was handled: open-loop arrivals. The loop compares it with the heap's top,
   * so it costs no heap operation. At most one may be pending.
   */
  scheduleStreamAt(atMs: number, event: E): void {
    if (this.streamEvent !== undefined) throw new Error('scheduleStreamAt: the stream has an event pending already');
    this.streamAtMs = atMs > this.nowMs ? atMs : this.nowMs;
    this.streamTie = tieOf(1, this.queue.takeSeq());
    this.streamEvent = event;
  }

  /** Ends the run after the current event; pending events are dropped. */
  stop(): void { this.stopped = true; }

  get done(): boolean { return this.stopped || (this.queue.size === 0 && this.streamEvent === undefined); }
  get pending(): number { return this.queue.size + (this.streamEvent === undefined ? 0 : 1); }

  /**
   * Handles up to `maxEvents` events and returns how many it handled, so a caller can
   * interleave other work (flushing output streams) between slices of a long run.
   */
  run(maxEvents = Infinity): number {
    const queue = this.queue;
    let handled = 0;
    while (handled < maxEvents && !this.stopped) {
      const atMs = queue.peekTime(); // Infinity when the heap is empty
      const stream = this.streamEvent;
      if (stream !== undefined && (this.streamAtMs < atMs || (this.streamAtMs === atMs && this.streamTie < queue.peekTie()))) {
        this.streamEvent = undefined;
        this.nowMs = this.streamAtMs;
        this.handle(stream);
        handled++;
        continue;
      }
      if (queue.size === 0) break;
      let event: E | LaneTimer | undefined;
      let fire: ((event: never) => void) | undefined;
      if (queue.peekTag() === LANE) {
        const lane = queue.peekItem() as AnyLane<E>;
        fire = lane.fire;
        // A timer lane whose head was cancelled since it was keyed comes up early, or empty:
        // it is re-keyed (or leaves the heap) without handling anything.
        event = lane.length > 0 && lane.headSeq === lane.keyedSeq ? lane.shift() : undefined;
        if (lane.length > 0) {
          lane.keyedSeq = lane.headSeq;
          queue.replaceTop(lane.headTime, lane, 1, LANE, lane.keyedSeq);
        } else {
          lane.keyedSeq = -1;
          queue.pop();
        }
        if (event === undefined) continue;
      } else {
        event = queue.pop() as E;
      }
      this.nowMs = atMs;
      if (fire) fire(event as never);
      else this.handle(event as E);
      handled++;
    }
    this.eventsHandled += handled;
    return handled;
  }
}
