// Weighted random: each candidate with probability effectiveWeight / total.
import type { Backend, Candidates, Policy, Rng } from '../types.ts';
import { definePolicy } from './define.ts';

export class RandomPolicy implements Policy {
  readonly name = 'random';
  constructor(private readonly rng: Rng) {}

  setMembers(): void {}

  pick(c: Candidates): Backend {
    return weightedDraw(c, this.rng);
  }
}

export const random = definePolicy({
  name: 'random',
  options: {},
  traits: { hashKey: false, liveWeights: true },
  create: (_options, rng) => new RandomPolicy(rng),
});

/** One draw from the candidates, proportional to effective weight. */
export function weightedDraw(c: Candidates, rng: Rng): Backend {
  const list = c.list;
  if (c.uniformWeights) return list[Math.floor(rng() * list.length)];
  let x = rng() * c.totalWeight;
  for (const b of list) {
    x -= b.effectiveWeight;
    if (x < 0) return b;
  }
  return list[list.length - 1];
}
