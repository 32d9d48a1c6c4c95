// The calibration fit, pure arithmetic on what was measured:
// - the hop: half the median round trip client → replica → client with no proxy in between,
//   capped so that two hops and the CPU fit under the fastest 5 % of proxied requests;
// - the CPU station: CPU per request as the slope between two load levels of equal length,
//   so what the proxy burns while idle (timers, GC of nothing) cancels out; the median of
//   several rounds of the two;
// - the overhead: what the proxied latency has beyond two hops and the CPU, fitted as the
//   hand fit did: lognormal with the excess's median and its mean/median ratio
//   (mean/median = exp(σ²/2) for a lognormal, so σ = √(2 ln(mean/median))).
import type { Distribution } from '../../core/distributions.ts';
import type { NetworkModel } from '../../experiments/network.ts';
import { PercentileHistogram } from '../../experiments/histogram.ts';
import { roundMs } from '../../experiments/summary.ts';

export interface LatencyStats { mean: number; p50: number; p99: number }

export interface CpuLevel { ratePerSec: number; requests: number; durationMs: number; cpuMs: number }

export function latencyStats(valuesMs: Iterable<number>): LatencyStats {
  const h = new PercentileHistogram();
  for (const v of valuesMs) h.record(v);
  return { mean: roundMs(h.meanMs), p50: roundMs(h.percentileMs(50)), p99: roundMs(h.percentileMs(99)) };
}

/**
 * CPU ms per request. The levels come in rounds, a low and a high rate of equal length one
 * after the other; each round's slope is its CPU per request (per second of run, cpu/s =
 * idle + c × requests/s, so the idle cost cancels), and the fit is the median over rounds:
 * a level that caught a burst of the machine's other work moves one slope, not the fit.
 */
export function cpuPerRequestMs(levels: readonly CpuLevel[]): number {
  if (levels.length < 2 || levels.length % 2 !== 0) throw new Error(`the CPU fit needs two load levels per round, got ${levels.length} levels`);
  const slopes: number[] = [];
  for (let i = 0; i < levels.length; i += 2) slopes.push(slope(levels[i], levels[i + 1]));
  slopes.sort((a, b) => a - b);
  const mid = slopes.length >> 1;
  return slopes.length % 2 ? slopes[mid] : (slopes[mid - 1] + slopes[mid]) / 2;
}

function slope(x: CpuLevel, y: CpuLevel): number {
  const perSec = (l: CpuLevel) => ({ cpu: l.cpuMs / (l.durationMs / 1000), req: l.requests / (l.durationMs / 1000) });
  const [a, b] = x.ratePerSec <= y.ratePerSec ? [perSec(x), perSec(y)] : [perSec(y), perSec(x)];
  if (b.req <= a.req) throw new Error('the CPU fit needs two different request rates in each round');
  return Math.max(0, (b.cpu - a.cpu) / (b.req - a.req));
}

export interface FitInput {
  /** Client-observed latencies through the proxy at light load. */
  proxiedMs: readonly number[];
  /** Median round trip straight to a replica. */
  directRttMs: number;
  cpuPerRequestMs: number;
  /** The proxy's parallel workers (event loops, threads). */
  workers: number;
}

/** The fixed part of the model stays under this percentile of the proxied latencies. */
const FLOOR_PERCENT = 5;

const round = (x: number, digits = 4) => Number(x.toFixed(digits));
const constant = (value: number): Distribution => ({ dist: 'constant', value: round(value) });

export function fitNetwork(input: FitInput): NetworkModel {
  // Two hops and the CPU are a floor every proxied request pays, so they may not exceed the
  // fastest requests: on a busy machine the direct round trip can come out slower than that.
  const h = new PercentileHistogram();
  for (const v of input.proxiedMs) h.record(v);
  const floorMs = h.percentileMs(FLOOR_PERCENT);
  const hopMs = Math.max(0, Math.min(input.directRttMs, floorMs - input.cpuPerRequestMs) / 2);
  // The split of the CPU between the way in and the way out is not measured: half each.
  const halfCpuMs = input.cpuPerRequestMs / 2;
  const fixedMs = 2 * hopMs + input.cpuPerRequestMs;
  const stats = latencyStats(input.proxiedMs);
  const medianMs = stats.p50 - fixedMs;
  const meanMs = stats.mean - fixedMs;
  const network: NetworkModel = { proxyToServerMs: constant(hopMs) };
  if (medianMs > 0) {
    const ratio = Math.max(1, meanMs / medianMs);
    network.proxyOverheadMs = { dist: 'lognormal', median: round(medianMs), sigma: round(Math.sqrt(2 * Math.log(ratio)), 3) };
  }
  // No retryMs: its default, a whole request (requestMs + responseMs), is what was measured
  // (2026-12-05, 600/s, every third request retried: Fulcrum 128 µs per retry against 111 µs
  // per request, HAProxy 56 µs against 55 µs).
  if (halfCpuMs > 0) network.proxyCpu = { requestMs: constant(halfCpuMs), responseMs: constant(halfCpuMs), workers: input.workers };
  return network;
}

/** (sim − live) / live in %, per statistic. */
export function errorPct(sim: LatencyStats, live: LatencyStats): LatencyStats {
  const pct = (s: number, l: number) => (l === 0 ? 0 : round(((s - l) / l) * 100, 1));
  return { mean: pct(sim.mean, live.mean), p50: pct(sim.p50, live.p50), p99: pct(sim.p99, live.p99) };
}
