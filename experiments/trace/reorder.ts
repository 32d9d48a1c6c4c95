// A bounded reorder window: records go in as the log wrote them, come out earliest arrival
// first (ties by line, so the file's order decides). A binary min-heap on (atMs, line).
import type { TraceRecord } from './record.ts';

export class ReorderWindow {
  private readonly heap: TraceRecord[] = [];

  get size(): number { return this.heap.length; }

  add(r: TraceRecord): void {
    const h = this.heap;
    let k = h.length;
    h.push(r);
    while (k > 0) {
      const parent = (k - 1) >> 1;
      if (!before(r, h[parent])) break;
      h[k] = h[parent];
      k = parent;
    }
    h[k] = r;
  }

  /** The earliest record; the window must not be empty. */
  takeEarliest(): TraceRecord {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length === 0) return top;
    let k = 0;
    for (;;) {
      let child = 2 * k + 1;
      if (child >= h.length) break;
      if (child + 1 < h.length && before(h[child + 1], h[child])) child++;
      if (!before(h[child], last)) break;
      h[k] = h[child];
      k = child;
    }
    h[k] = last;
    return top;
  }
}

function before(a: TraceRecord, b: TraceRecord): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.line < b.line);
}
