// Caddy 2.6 `lb_policy first` (selectionpolicies.go FirstSelection.Select at v2.6.2): the
// first available upstream in config order takes every request; the next one only while
// it is unhealthy. No state, no weights.
import type { Backend, Candidates } from '../types.ts';
import { definePolicy } from './define.ts';
import { CaddyPolicy } from './caddy-pool.ts';

export class CaddyFirst extends CaddyPolicy {
  readonly name = 'caddy-first';

  pick(c: Candidates): Backend | undefined {
    return this.pool.find((b) => c.has(b));
  }
}

export const caddyFirst = definePolicy({
  name: 'caddy-first',
  options: {},
  traits: { hashKey: false, liveWeights: false },
  create: () => new CaddyFirst(),
});
