// Peak-EWMA (Finagle, Linkerd/tower, Envoy's peak_ewma): P2C over cost =
// latency estimate × (in flight + 1) / weight. The estimate jumps up to any slower sample
// at once (the peak) and decays towards faster ones with time constant `decayMs`. An idle
// estimate keeps decaying, so a backend that was slow once is probed again rather than
// starved; a new backend starts at `defaultRttMs`. 429 and 503 answers are charged
// `penaltyMs`, so fast rejections do not attract traffic (Linkerd's load biaser).
import { z } from 'zod';
import type { AttemptOutcome, Backend, Candidates, PickTrace, Policy, Rng } from '../types.ts';
import { definePolicy } from './define.ts';
import { choicesOption, pickCheapestOf } from './p2c.ts';

interface Estimate { rttMs: number; stampMs: number }

export interface PeakEwmaOptions { choices: number; decayMs: number; defaultRttMs: number; penaltyMs: number }

export class PeakEwma implements Policy {
  readonly name = 'peak-ewma';
  private readonly estimates = new Map<Backend, Estimate>();

  constructor(private readonly rng: Rng, private readonly opts: PeakEwmaOptions) {}

  setMembers(members: readonly Backend[]): void {
    const keep = new Set(members);
    for (const b of [...this.estimates.keys()]) if (!keep.has(b)) this.estimates.delete(b);
  }

  pick(c: Candidates, ctx: { nowMs: number }, trace?: PickTrace): Backend {
    return pickCheapestOf(c, this.opts.choices, this.rng, this.cost, ctx.nowMs, trace);
  }

  /** The current cost of a backend; exposed for tests and traces. */
  readonly cost = (b: Backend, nowMs: number): number =>
    (this.decayed(b, nowMs) * (b.inFlight + 1)) / b.effectiveWeight;

  onAttemptEnd(b: Backend, nowMs: number, latencyMs: number, outcome: AttemptOutcome): void {
    if (outcome.kind === 'client-abort' || outcome.kind === 'local-reject') return;
    const penalised = outcome.kind === 'response' && (outcome.status === 429 || outcome.status === 503);
    const sample = penalised ? Math.max(latencyMs, this.opts.penaltyMs) : latencyMs;
    const e = this.estimates.get(b);
    const prev = e ? e.rttMs : this.opts.defaultRttMs;
    const weightOfPast = e ? Math.exp(-Math.max(0, nowMs - e.stampMs) / this.opts.decayMs) : 0;
    const rttMs = sample > prev ? sample : prev * weightOfPast + sample * (1 - weightOfPast);
    this.estimates.set(b, { rttMs, stampMs: nowMs });
  }

  /** The estimate decayed towards zero for the time since its last update. */
  private decayed(b: Backend, nowMs: number): number {
    const e = this.estimates.get(b);
    if (!e) return this.opts.defaultRttMs;
    const elapsed = nowMs - e.stampMs;
    return elapsed > 0 ? e.rttMs * Math.exp(-elapsed / this.opts.decayMs) : e.rttMs;
  }
}

export const peakEwma = definePolicy({
  name: 'peak-ewma',
  options: {
    choices: choicesOption,
    /** Decay time constant; Finagle and Envoy default to 10 s. */
    ewmaDecayMs: z.number().positive().default(10_000),
    /** Latency assumed for a backend with no samples yet, so it gets probed. */
    ewmaDefaultRttMs: z.number().positive().default(10),
    /** Latency charged for a 429/503 answer, so fast rejections do not attract traffic (Linkerd). */
    ewmaPenaltyMs: z.number().nonnegative().default(1_000),
  },
  traits: { hashKey: false, liveWeights: true },
  create: (o, rng) => new PeakEwma(rng, {
    choices: o.choices, decayMs: o.ewmaDecayMs, defaultRttMs: o.ewmaDefaultRttMs, penaltyMs: o.ewmaPenaltyMs,
  }),
});
