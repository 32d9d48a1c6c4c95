// HAProxy keeps its servers in ebtrees (import/eb32tree.h): ordered by a 32-bit key, and
// equal keys come back in the order they were inserted. The HAProxy models lean on that
// order for their tie-breaks (leastconn's rotation among idle servers, round robin's order
// among equal weights), so this tiny sorted list copies it exactly. Trees hold a handful of
// servers (or weight × 16 hash points), so a binary search and a splice are plenty.

export class EbTree<T> {
  private readonly nodes: Array<{ key: number; item: T }> = [];

  get size(): number { return this.nodes.length; }

  /** Inserts after every node with a key ≤ `key` (duplicates keep insertion order). */
  insert(key: number, item: T): void {
    const k = key >>> 0;
    let lo = 0;
    let hi = this.nodes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.nodes[mid].key <= k) lo = mid + 1; else hi = mid;
    }
    this.nodes.splice(lo, 0, { key: k, item });
  }

  /** Removes `item` (its one node); false when it was not in the tree. */
  delete(item: T): boolean {
    const i = this.nodes.findIndex((n) => n.item === item);
    if (i < 0) return false;
    this.nodes.splice(i, 1);
    return true;
  }

  first(): T | undefined { return this.nodes[0]?.item; }

  /** Index of the first node whose key is ≥ `key` (eb32_lookup_ge), or size when none. */
  lowerBound(key: number): number {
    const k = key >>> 0;
    let lo = 0;
    let hi = this.nodes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.nodes[mid].key < k) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  keyAt(i: number): number { return this.nodes[i].key; }
  itemAt(i: number): T { return this.nodes[i].item; }

  /** Items in tree order (eb32_first, eb32_next, …). */
  items(): T[] { return this.nodes.map((n) => n.item); }
}
