// Latency quantiles and CDFs in bounded memory, for requests.csv files too large to hold.
// HDR-style log-linear buckets over integer microseconds: exact below 2 × 2^bits µs, above
// that each power of two splits into 2^bits buckets (bits = 7: within ±0.4 % of the value).
// Buckets are stored sparsely, so a histogram holds only the few hundred buckets its values
// touch. experiments/histogram.ts uses the same scheme but keeps its buckets private, and the report
// also needs coarse per-time-bucket histograms, hence this small sparse one.

/** 2^31 µs ≈ 35.8 min: longer values share the top bucket (min, max and mean stay exact). */
const MAX_TRACKED_US = 2 ** 31 - 1;

/** A histogram as JSON: [bucket index, count] pairs; min and max are null when empty. */
export interface HistogramData {
  bits: number; count: number; sumMs: number; minMs: number | null; maxMs: number | null; counts: Array<[number, number]>;
}

export class LogHistogram {
  private readonly counts = new Map<number, number>();
  count = 0;
  sumMs = 0;
  minMs = Infinity;
  maxMs = -Infinity;

  constructor(readonly subBucketBits = 7) {}

  record(valueMs: number, times = 1): void {
    this.count += times;
    this.sumMs += valueMs * times;
    if (valueMs < this.minMs) this.minMs = valueMs;
    if (valueMs > this.maxMs) this.maxMs = valueMs;
    let us = Math.round(valueMs * 1000);
    if (!(us >= 0)) us = 0; else if (us > MAX_TRACKED_US) us = MAX_TRACKED_US;
    const i = this.indexOf(us);
    this.counts.set(i, (this.counts.get(i) ?? 0) + times);
  }

  get meanMs(): number { return this.count ? this.sumMs / this.count : 0; }

  /**
   * The value at quantile q (0..1) by nearest rank, reported at its bucket's middle and
   * clamped to the exact min and max; q = 0 and q = 1 give min and max themselves.
   */
  quantileMs(q: number): number {
    return this.quantilesMs([q])[0];
  }

  /** quantileMs for many q (ascending) in one pass over the buckets. */
  quantilesMs(qs: readonly number[]): number[] {
    const out: number[] = [];
    if (this.count === 0) return qs.map(() => 0);
    const indexes = this.sortedIndexes();
    let at = 0;
    let seen = this.counts.get(indexes[0])!;
    for (const q of qs) {
      if (q <= 0) { out.push(this.minMs); continue; }
      if (q >= 1) { out.push(this.maxMs); continue; }
      const rank = Math.max(1, Math.ceil(q * this.count));
      while (seen < rank && at < indexes.length - 1) seen += this.counts.get(indexes[++at])!;
      const [lowUs, widthUs] = this.rangeOf(indexes[at]);
      const midMs = (lowUs + (widthUs - 1) / 2) / 1000;
      out.push(Math.min(this.maxMs, Math.max(this.minMs, midMs)));
    }
    return out;
  }

  merge(other: LogHistogram): void {
    if (other.subBucketBits !== this.subBucketBits) throw new Error('cannot merge histograms of different precision');
    for (const [i, c] of other.counts) this.counts.set(i, (this.counts.get(i) ?? 0) + c);
    this.count += other.count;
    this.sumMs += other.sumMs;
    this.minMs = Math.min(this.minMs, other.minMs);
    this.maxMs = Math.max(this.maxMs, other.maxMs);
  }

  /** Plain data for request-stats.json: buckets in index order, so equal histograms give equal JSON. */
  toData(): HistogramData {
    const counts = this.sortedIndexes().map((i): [number, number] => [i, this.counts.get(i)!]);
    return { bits: this.subBucketBits, count: this.count, sumMs: this.sumMs, minMs: this.count ? this.minMs : null, maxMs: this.count ? this.maxMs : null, counts };
  }

  static fromData(d: HistogramData): LogHistogram {
    const h = new LogHistogram(d.bits);
    for (const [i, c] of d.counts) h.counts.set(i, c);
    h.count = d.count;
    h.sumMs = d.sumMs;
    h.minMs = d.minMs ?? Infinity;
    h.maxMs = d.maxMs ?? -Infinity;
    return h;
  }

  /** Non-empty buckets: the memory the histogram holds. */
  get bucketsUsed(): number { return this.counts.size; }

  /** Half the widest relative bucket width: the worst relative error of a reported value above the exact range. */
  get relativePrecision(): number { return 1 / 2 ** (this.subBucketBits + 1); }

  private sortedIndexes(): number[] {
    return [...this.counts.keys()].sort((a, b) => a - b);
  }

  private indexOf(us: number): number {
    const sub = 1 << this.subBucketBits;
    if (us < 2 * sub) return us;
    const shift = 31 - Math.clz32(us) - this.subBucketBits;
    return (shift + 1) * sub + (us >>> shift) - sub;
  }

  /** [lowest value, width] of bucket i, in µs. */
  private rangeOf(i: number): [number, number] {
    const sub = 1 << this.subBucketBits;
    if (i < 2 * sub) return [i, 1];
    const shift = Math.floor(i / sub) - 1;
    return [(i - shift * sub) * 2 ** shift, 2 ** shift];
  }
}
