// Queueing-theory checks shared by the simulator tests: per-request latencies and their
// batch-means confidence interval.
//
// Tolerance: batch means. Latencies in arrival order are autocorrelated, so the plain
// standard error would be too small. After dropping the first 5 % (the system starts
// empty), the rest is cut into 30 batches, each thousands of times longer than the
// queue's relaxation time (~40 service times at ρ = 0.7), so the batch means are close to
// independent and normal. The 99 % confidence interval of the mean is then
// ± t(0.995, 29) · sd(batch means) / √30 — the tolerance follows from the run length.
// Each check also demands that interval be narrower than 3 % of the expected value, so a
// run too short to say anything fails instead of passing vacuously.
import { expect } from 'vitest';
import type { RunConfig } from '../../experiments/schema.ts';
import { Simulation } from '../../sim/model/simulation.ts';
import type { Recorder, RequestRecord } from '../../experiments/records.ts';

const BATCHES = 30;
const T_0995_29 = 2.756; // Student t, 99 % two-sided, 29 degrees of freedom
const WARMUP_SHARE = 0.05;

/** Latency per request id, nothing else: hundreds of thousands of requests stay cheap. */
export function latencies(cfg: RunConfig): Float64Array {
  const out = new Float64Array(cfg.workload.requests!);
  const recorder: Recorder = {
    bucketMs: 1e9,
    attemptStarted() {},
    attemptEnded() {},
    requestDone(r: RequestRecord) { out[r.id] = r.endMs - r.startMs; },
    bucketEnd() {},
  };
  const sim = new Simulation(cfg, recorder);
  while (!sim.step(1_000_000)) { /* run to the end */ }
  return out;
}

function batchMeansInterval(values: Float64Array): { mean: number; halfWidth: number } {
  const start = Math.floor(values.length * WARMUP_SHARE);
  const size = Math.floor((values.length - start) / BATCHES);
  const means: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    let sum = 0;
    for (let i = start + b * size; i < start + (b + 1) * size; i++) sum += values[i];
    means.push(sum / size);
  }
  const mean = means.reduce((a, m) => a + m, 0) / BATCHES;
  const variance = means.reduce((a, m) => a + (m - mean) ** 2, 0) / (BATCHES - 1);
  return { mean, halfWidth: (T_0995_29 * Math.sqrt(variance)) / Math.sqrt(BATCHES) };
}

export function expectWithin(values: Float64Array, expectedMs: number): void {
  const { mean, halfWidth } = batchMeansInterval(values);
  const context = `mean ${mean.toFixed(4)} ms, expected ${expectedMs.toFixed(4)} ms, 99% CI ±${halfWidth.toFixed(4)} ms`;
  expect(halfWidth / expectedMs, `interval too wide to test anything: ${context}`).toBeLessThan(0.03);
  expect(Math.abs(mean - expectedMs), context).toBeLessThanOrEqual(halfWidth);
  if (process.env.SIM_TEST_VERBOSE) console.log(context);
}
