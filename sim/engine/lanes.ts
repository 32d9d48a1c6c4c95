// Events scheduled with the same delay fire in the order they were scheduled, so each
// delay gets a FIFO lane and only the lane's head sits in the event heap — the way Node's
// own timers group by duration. Thousands of constant network hops or CPU jobs in flight
// then cost one heap entry, not thousands, and keep every heap operation short. Timers that
// are usually cancelled (per-try timeouts) have their own kind of lane (timer-lane.ts).

export class Lane<E> {
  private times: number[] = [];
  /** Each event's scheduling number (the heap's seq), so ties with other events keep scheduling order. */
  private seqs: number[] = [];
  private events: (E | undefined)[] = [];
  private head = 0;
  /** The seq the lane's heap entry was placed with; -1 while it has none (the Simulator keeps it). */
  keyedSeq = -1;

  /** Its events go to the Simulator's handler (a TimerLane has its own). */
  readonly fire = undefined;

  constructor(readonly delayMs: number) {}

  get length(): number { return this.events.length - this.head; }
  /** Due time of the oldest event (call only when length > 0). */
  get headTime(): number { return this.times[this.head]; }
  /** Scheduling number of the oldest event (call only when length > 0). */
  get headSeq(): number { return this.seqs[this.head]; }

  push(atMs: number, seq: number, event: E): void {
    this.times.push(atMs);
    this.seqs.push(seq);
    this.events.push(event);
  }

  /** Removes and returns the oldest event (call only when length > 0). */
  shift(): E {
    const event = this.events[this.head]!;
    this.events[this.head++] = undefined;
    // Compact once the dead prefix outweighs the live part, keeping memory ∝ length.
    if (this.head > 1024 && this.head * 2 > this.events.length) {
      this.times = this.times.slice(this.head);
      this.seqs = this.seqs.slice(this.head);
      this.events = this.events.slice(this.head);
      this.head = 0;
    }
    return event;
  }
}
