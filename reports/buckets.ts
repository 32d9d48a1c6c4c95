// Time-bucket arithmetic shared by the readers and the derived series: pure, no I/O.

/** The smallest gap between distinct bucket times: the bucket width. */
export function bucketWidthMs(times: readonly number[]): number | null {
  const distinct = [...new Set(times)].sort((a, b) => a - b);
  let width = Infinity;
  for (let i = 1; i < distinct.length; i++) width = Math.min(width, distinct[i] - distinct[i - 1]);
  return Number.isFinite(width) && width > 0 ? width : null;
}

/** A 1-2-5 step giving about `target` buckets over `durationMs` (at least 1 ms). */
export function niceBucketMs(durationMs: number, target = 200): number {
  const raw = Math.max(1, durationMs / target);
  for (let decade = 1; ; decade *= 10) {
    for (const step of [1, 2, 5]) if (step * decade >= raw) return step * decade;
  }
}

/** Time charts show at most this many buckets: finer ones are noise at report size. */
export const MAX_TIME_BUCKETS = 100;

/** The smallest multiple of `sourceMs` that covers `durationMs` in at most MAX_TIME_BUCKETS buckets. */
export function displayBucketMs(sourceMs: number, durationMs: number): number {
  return sourceMs * Math.max(1, Math.ceil(durationMs / sourceMs / MAX_TIME_BUCKETS));
}

/**
 * Seconds a bucket covers, to turn its count into a rate: the last bucket ends with the run,
 * so it is shorter; but never under half a bucket, or a sliver at the end spikes the rate.
 */
export function coveredSec(tMs: number, bucketMs: number, durationMs: number): number {
  const coveredMs = Math.min(bucketMs, Math.max(durationMs - tMs, bucketMs / 2));
  return coveredMs / 1000;
}
