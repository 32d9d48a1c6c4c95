// Caddy 2.6 `lb_policy random_choose <n>` (selectionpolicies.go RandomChoiceSelection.Select
// and leastRequests at v2.6.2), kept with its quirks:
// - k = min(n, pool size) slots are filled by reservoir sampling whose index counts EVERY
//   upstream, available or not (j = Intn(i+1) with i the position in the whole list), so a
//   slot may stay empty and an unhealthy upstream early in the list skews the draw;
// - leastRequests returns the first slot with 0 requests in flight at once; otherwise it
//   collects each slot whose count is <= the lowest seen SO FAR (a slot seen before a lower
//   one stays in the list) and picks one of the collected at random.
import { z } from 'zod';
import type { Backend, Candidates, Rng } from '../types.ts';
import { definePolicy } from './define.ts';
import { CaddyPolicy, intn } from './caddy-pool.ts';

export class CaddyRandomChoose extends CaddyPolicy {
  readonly name = 'caddy-random-choose';

  constructor(private readonly rng: Rng, private readonly choose: number) { super(); }

  pick(c: Candidates): Backend | undefined {
    const k = Math.min(this.choose, this.pool.length);
    const slots: Array<Backend | undefined> = new Array<Backend | undefined>(k).fill(undefined);
    this.pool.forEach((b, i) => {
      if (!c.has(b)) return;
      const j = intn(this.rng, i + 1);
      if (j < k) slots[j] = b;
    });
    return this.leastRequests(slots);
  }

  private leastRequests(slots: ReadonlyArray<Backend | undefined>): Backend | undefined {
    const best: Backend[] = [];
    let bestReqs = -1;
    for (const b of slots) {
      if (!b) continue;
      if (b.inFlight === 0) return b;
      if (b.inFlight <= bestReqs || bestReqs === -1) {
        bestReqs = b.inFlight;
        best.push(b);
      }
    }
    return best.length ? best[intn(this.rng, best.length)] : undefined;
  }
}

export const caddyRandomChoose = definePolicy({
  name: 'caddy-random-choose',
  options: {
    /** `random_choose <n>`: slots drawn per pick (Caddy's default 2, at least 2: its Validate). */
    choose: z.number().int().min(2).max(100).default(2),
  },
  traits: { hashKey: false, liveWeights: false },
  create: (o, rng) => new CaddyRandomChoose(rng, o.choose),
});
