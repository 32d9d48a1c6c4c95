// Caddy 2.6 `lb_policy round_robin` (selectionpolicies.go RoundRobinSelection.Select at
// v2.6.2): a uint32 counter, incremented BEFORE use, indexes the whole upstream list
// (robin % n); an unavailable host costs a turn and the next one is tried, at most n times.
// So from a fresh config the first request goes to the SECOND upstream (s2 s3 s1 s2 …), and
// every config load (membership change) starts the counter at 0 again. No weights.
import type { Backend, Candidates } from '../types.ts';
import { definePolicy } from './define.ts';
import { CaddyPolicy } from './caddy-pool.ts';

export class CaddyRoundRobin extends CaddyPolicy {
  readonly name = 'caddy-round-robin';
  private robin = 0;

  protected override reloaded(): void { this.robin = 0; }

  pick(c: Candidates): Backend | undefined {
    const n = this.pool.length;
    for (let i = 0; i < n; i++) {
      this.robin = (this.robin + 1) >>> 0; // atomic.AddUint32 wraps at 2^32
      const host = this.pool[this.robin % n];
      if (c.has(host)) return host;
    }
    return undefined;
  }
}

export const caddyRoundRobin = definePolicy({
  name: 'caddy-round-robin',
  options: {},
  traits: { hashKey: false, liveWeights: false },
  create: () => new CaddyRoundRobin(),
});
