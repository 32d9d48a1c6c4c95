// Power of two choices, least request (Mitzenmacher; Envoy LEAST_REQUEST, HAProxy
// random(2), Finagle's default): draw `choices` distinct candidates at random, keep the
// one with the least load. The load signal is pluggable, so peak-EWMA reuses the selector.
import { z } from 'zod';
import type { Backend, Candidates, PickTrace, Policy, Rng } from '../types.ts';
import { definePolicy } from './define.ts';

/** Draws per pick (2 = power of two choices); peak-ewma owns the same option. */
export const choicesOption = z.number().int().min(2).max(16).default(2);

/** A cost to minimise; lower is better. */
export type LoadOf = (b: Backend, nowMs: number) => number;

/** Draws up to `choices` distinct candidates and returns the cheapest (first drawn on ties). */
export function pickCheapestOf(c: Candidates, choices: number, rng: Rng, load: LoadOf, nowMs: number, trace?: PickTrace): Backend {
  const list = c.list;
  const n = list.length;
  if (n === 1) return list[0];
  if (choices === 2) { // the common case without allocation
    const i = Math.floor(rng() * n);
    let j = Math.floor(rng() * (n - 1));
    if (j >= i) j++;
    const a = list[i], b = list[j];
    const la = load(a, nowMs), lb = load(b, nowMs);
    if (trace) trace.considered = [{ id: a.id, score: la }, { id: b.id, score: lb }];
    return lb < la ? b : a;
  }
  // Partial Fisher–Yates over indices for k > 2 distinct draws.
  const k = Math.min(choices, n);
  const idx = Array.from({ length: n }, (_, i) => i);
  let best: Backend | undefined;
  let bestLoad = Infinity;
  if (trace) trace.considered = [];
  for (let d = 0; d < k; d++) {
    const r = d + Math.floor(rng() * (n - d));
    [idx[d], idx[r]] = [idx[r], idx[d]];
    const b = list[idx[d]];
    const l = load(b, nowMs);
    trace?.considered!.push({ id: b.id, score: l });
    if (l < bestLoad) { best = b; bestLoad = l; }
  }
  return best!;
}

const leastRequest: LoadOf = (b) => (b.inFlight + 1) / b.effectiveWeight;

export class PowerOfTwoChoices implements Policy {
  readonly name = 'p2c';
  constructor(private readonly rng: Rng, private readonly choices: number) {}

  setMembers(): void {}

  pick(c: Candidates, ctx: { nowMs: number }, trace?: PickTrace): Backend {
    return pickCheapestOf(c, this.choices, this.rng, leastRequest, ctx.nowMs, trace);
  }
}

export const p2c = definePolicy({
  name: 'p2c',
  options: { choices: choicesOption },
  traits: { hashKey: false, liveWeights: true },
  create: (o, rng) => new PowerOfTwoChoices(rng, o.choices),
});
