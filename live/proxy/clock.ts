// The proxy's time, handed to the core the way the simulator hands in its virtual clock.
// (Randomness comes from core/rng.ts, the derivation every engine shares.)

/** Epoch milliseconds from the monotonic clock: never steps back, and Retry-After dates still compare. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
