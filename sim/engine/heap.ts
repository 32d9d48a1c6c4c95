// A binary min-heap of events ordered by (atMs, priority, seq). The order key lives in
// parallel typed arrays so every comparison reads two doubles, whatever the event's shape
// (events of many kinds would make property reads on the objects megamorphic).
// `seq` is the scheduling count: equal times and priorities pop in scheduling order, so a
// run depends on nothing but its inputs. An owner that queues events outside the heap (a
// lane) takes each event's seq with takeSeq() when it is scheduled and pushes its head
// with that seq, so a lane entry ties exactly as the plain event it stands for.
// pop() leaves a hole at the root and the next push() fills it with one sift down, instead
// of one sift to close the hole and another to place the new event: most handlers schedule
// an event (the next arrival, the server's next job), so most events cost one sift, not two.
// Any other call closes the hole first. Keys are unique (seq), so the order events come out
// in is the same whatever shape the heap has.

/** Lower runs first among events at the same time. */
export type Priority = 0 | 1;

// tie = (priority × 2^44 + seq) × 2 + tag: an integer below 2^46, exact in a double, for
// 17 trillion events per run. The tag bit lets the owner mark entries (lanes) without an
// instanceof test on every pop; it never decides order, since seqs differ.
const PRIORITY_STRIDE = 2 ** 44;

/** The tie-break key of an untagged event: compare with peekTie() to order an event kept outside the heap. */
export function tieOf(priority: Priority, seq: number): number {
  return (priority * PRIORITY_STRIDE + seq) * 2;
}

export class EventQueue<T> {
  private times = new Float64Array(1024);
  private ties = new Float64Array(1024);
  private items: (T | undefined)[] = [];
  /** Slots in use, the hole included. */
  private count = 0;
  private seq = 0;
  /** The root was popped and is not refilled yet. */
  private hole = false;

  get size(): number { return this.hole ? this.count - 1 : this.count; }

  /** Time of the next event; Infinity when empty. */
  peekTime(): number {
    if (this.hole) this.fill();
    return this.count > 0 ? this.times[0] : Infinity;
  }

  /** The next event without removing it. */
  peekItem(): T | undefined {
    if (this.hole) this.fill();
    return this.items[0];
  }

  /** The next event's tie-break key (call only when size > 0). */
  peekTie(): number {
    if (this.hole) this.fill();
    return this.ties[0];
  }

  /** The tag the next event was pushed with. */
  peekTag(): 0 | 1 {
    if (this.hole) this.fill();
    return (this.ties[0] & 1) as 0 | 1; // ToInt32 keeps the low bit
  }

  /** The next scheduling number: for events held outside the heap until their turn. */
  takeSeq(): number { return this.seq++; }

  push(atMs: number, item: T, priority: Priority = 1, tag: 0 | 1 = 0, seq = this.seq++): void {
    const tie = (priority * PRIORITY_STRIDE + seq) * 2 + tag;
    if (this.hole) {
      this.hole = false;
      this.siftDown(atMs, tie, item);
      return;
    }
    if (this.count === this.times.length) this.grow();
    // Sift up: move parents down until the slot fits.
    let i = this.count++;
    const times = this.times;
    const ties = this.ties;
    const items = this.items;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent];
      if (pt < atMs || (pt === atMs && ties[parent] < tie)) break;
      times[i] = pt;
      ties[i] = ties[parent];
      items[i] = items[parent];
      i = parent;
    }
    times[i] = atMs;
    ties[i] = tie;
    items[i] = item;
  }

  /** Removes and returns the earliest event; read its time with peekTime() first. */
  pop(): T | undefined {
    if (this.hole) this.fill();
    if (this.count === 0) return undefined;
    const top = this.items[0];
    this.items[0] = undefined;
    this.hole = true;
    return top;
  }

  /**
   * pop() then push(atMs, item) in one sift instead of two: for a lane whose next event
   * replaces the one just taken from the top.
   */
  replaceTop(atMs: number, item: T, priority: Priority = 1, tag: 0 | 1 = 0, seq = this.seq++): T | undefined {
    if (this.hole) this.fill();
    const top = this.items[0];
    this.siftDown(atMs, (priority * PRIORITY_STRIDE + seq) * 2 + tag, item);
    return top;
  }

  /** Closes the hole at the root with the last entry. */
  private fill(): void {
    this.hole = false;
    const last = --this.count;
    const item = this.items[last];
    this.items[last] = undefined;
    if (last > 0) this.siftDown(this.times[last], this.ties[last], item);
  }

  /** Places (t, k, item) starting from the root, moving smaller children up. */
  private siftDown(t: number, k: number, item: T | undefined): void {
    const times = this.times;
    const ties = this.ties;
    const items = this.items;
    const n = this.count;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && (times[right] < times[child] || (times[right] === times[child] && ties[right] < ties[child]))) {
        child = right;
      }
      const ct = times[child];
      if (t < ct || (t === ct && k < ties[child])) break;
      times[i] = ct;
      ties[i] = ties[child];
      items[i] = items[child];
      i = child;
    }
    times[i] = t;
    ties[i] = k;
    items[i] = item;
  }

  private grow(): void {
    const times = new Float64Array(this.times.length * 2);
    times.set(this.times);
    this.times = times;
    const ties = new Float64Array(this.ties.length * 2);
    ties.set(this.ties);
    this.ties = ties;
  }
}
