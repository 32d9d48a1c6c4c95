// The proxy's time and randomness, handed to the core the way the simulator hands in its
// virtual clock and seeded streams.
import seedrandom from 'seedrandom';
import type { Rng } from '../../core/index.ts';

/** Epoch milliseconds from the monotonic clock: never steps back, and Retry-After dates still compare. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The consumers that draw random numbers. Each has its own stream, so one never shifts another. */
export type RngStream = 'balancer' | 'router' | 'health';

/** A seeded stream: `${seed}/${stream}`. The replay of a journal uses the same derivation. */
export function seededRng(seed: string | number, stream: RngStream): Rng {
  const prng = seedrandom(`${seed}/${stream}`);
  return () => prng();
}
