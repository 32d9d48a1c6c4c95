// The event loop: a clock that jumps from event to event (SimPy's Environment, reduced).
// It knows nothing about servers or requests; the model hands it a handler.
//
// Order: events run by (time, priority, scheduling order), whether they were scheduled
// plainly or in a lane (a lane entry keeps the scheduling number it got when scheduled).
// Zero-delay rule: a step that takes 0 ms is a nested call, never an event. When a sampled
// delay is exactly 0 (an absent or constant-0 network hop, a 0 ms connect), the model calls
// the next handler directly, so the consequence happens inside the event that caused it,
// before any other event already due at the same time, and costs no queue entry. Only
// schedule(0, …) would put it behind those events; the model never does that for a hop.
// test/sim/zero-delay.test.ts holds the model to this.
import { EventQueue, type Priority } from './heap.ts';
import { Lane } from './lanes.ts';

/** Heap tag of a lane entry (plain events carry 0). */
const LANE = 1;

export class Simulator<E> {
  /** Simulated time in ms; only ever moves forward. */
  nowMs = 0;
  /** Events handled so far (the benchmark's unit). */
  eventsHandled = 0;
  private readonly queue = new EventQueue<E | Lane<E>>();
  private stopped = false;

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
   * A FIFO lane for events that all wait exactly `delayMs` (timeouts, constant network
   * hops): its events share one heap entry (see lanes.ts). Make one per recurring delay and
   * keep it; random delays belong in schedule().
   */
  lane(delayMs: number): Lane<E> {
    return new Lane<E>(delayMs);
  }

  /**
   * Schedules `event` `lane.delayMs` from now, behind the lane's earlier events. Returns the
   * ticket that `lane.cancel` takes: a cancelled entry is skipped — not handled, not counted,
   * the clock not moved to it.
   */
  scheduleInLane(lane: Lane<E>, event: E): number {
    return this.scheduleInLaneAfter(lane, lane.delayMs, event);
  }

  /**
   * Schedules `event` `delayMs` from now, exactly as schedule() would (same time, same
   * scheduling number), but in `lane` when it is due no earlier than the lane's newest event;
   * then it returns the ticket, else -1 (the event went to the heap). For timers that usually
   * wait the lane's delay but may be an ulp off it: a deadline's remainder, deadlineMs − nowMs,
   * is 30 000 − 1e-11 as often as 30 000.
   */
  scheduleInLaneAfter(lane: Lane<E>, delayMs: number, event: E): number {
    const atMs = this.nowMs + delayMs;
    if (lane.length > 0 && atMs < lane.tailTime) { this.queue.push(atMs, event, 1); return -1; }
    const seq = this.queue.takeSeq();
    if (lane.length === 0) this.queue.push(atMs, lane, 1, LANE, seq);
    return lane.push(atMs, seq, event);
  }

  /** Ends the run after the current event; pending events are dropped. */
  stop(): void { this.stopped = true; }

  get done(): boolean { return this.stopped || this.queue.size === 0; }
  get pending(): number { return this.queue.size; }

  /**
   * Handles up to `maxEvents` events and returns how many it handled, so a caller can
   * interleave other work (flushing output streams) between slices of a long run.
   */
  run(maxEvents = Infinity): number {
    const queue = this.queue;
    let handled = 0;
    while (handled < maxEvents && !this.stopped && queue.size > 0) {
      const atMs = queue.peekTime();
      let event: E | undefined;
      if (queue.peekTag() === LANE) {
        const lane = queue.peekItem() as Lane<E>;
        event = lane.shift();
        if (lane.length > 0) queue.replaceTop(lane.headTime, lane, 1, LANE, lane.headSeq);
        else queue.pop();
        if (event === undefined) continue; // cancelled
      } else {
        event = queue.pop() as E;
      }
      this.nowMs = atMs;
      this.handle(event);
      handled++;
    }
    this.eventsHandled += handled;
    return handled;
  }
}
