// Events scheduled with the same delay fire in the order they were scheduled, so each
// delay gets a FIFO lane and only the lane's head sits in the event heap — the way Node's
// own timers group by duration. Thousands of pending per-try timeouts or constant network
// hops then cost one heap entry, not thousands, and keep every heap operation short. A lane
// also takes an event due at any time no earlier than its newest one
// (Simulator.scheduleInLaneAfter), so its FIFO order stays time order.
// An entry can be cancelled by the ticket push() returned: the lane then holds no object
// for it, only its time and number. A per-try timeout outlives the attempt it guards by
// the whole timeout (30 s by default, ~150 k timers at 5 k req/s); kept as objects, every
// one would be copied twice by the young-generation collector and swept from the old one:
// a third of the CPU of a 6 × 150 k-request sweep (3.6 s before, 2.4 s after).

export class Lane<E> {
  private times: number[] = [];
  /** Each event's scheduling number (the heap's seq), so ties with other events keep scheduling order. */
  private seqs: number[] = [];
  private events: (E | undefined)[] = [];
  private head = 0;
  /** The ticket of events[0]: tickets count every push, so they survive compaction. */
  private base = 0;

  constructor(readonly delayMs: number) {}

  get length(): number { return this.events.length - this.head; }
  /** Due time of the oldest event (call only when length > 0). */
  get headTime(): number { return this.times[this.head]; }
  /** Scheduling number of the oldest event (call only when length > 0). */
  get headSeq(): number { return this.seqs[this.head]; }
  /** Due time of the newest event (call only when length > 0). */
  get tailTime(): number { return this.times[this.times.length - 1]; }

  /** Queues `event`; returns its ticket for cancel(). */
  push(atMs: number, seq: number, event: E): number {
    this.times.push(atMs);
    this.seqs.push(seq);
    return this.base + this.events.push(event) - 1;
  }

  /**
   * Drops the entry of `ticket` if it is still queued. It stays as a gap: shift() returns it as
   * undefined if it is the head already, else passes over it.
   */
  cancel(ticket: number): void {
    const index = ticket - this.base;
    if (index >= this.head) this.events[index] = undefined;
  }

  /**
   * Removes the oldest entry: its event, or undefined if it was cancelled; and the cancelled
   * entries right behind it, so the next head is live. Most timeouts are settled before they
   * fire: each would otherwise cost its own trip through the event heap.
   */
  shift(): E | undefined {
    const events = this.events;
    const event = events[this.head];
    events[this.head++] = undefined;
    while (this.head < events.length && events[this.head] === undefined) this.head++;
    // Compact once the dead prefix outweighs the live part, keeping memory ∝ length.
    if (this.head > 1024 && this.head * 2 > this.events.length) {
      this.times = this.times.slice(this.head);
      this.seqs = this.seqs.slice(this.head);
      this.events = this.events.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
    return event;
  }
}
