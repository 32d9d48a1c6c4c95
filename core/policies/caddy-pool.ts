// What every Caddy 2.6 selection policy shares (modules/caddyhttp/reverseproxy at tag
// v2.6.2): each Select walks the handler's whole upstream list in config order and skips
// hosts that are not Available() (hosts.go: healthy and not full). Here the pool is the
// balancer's member list and "available" is membership of the candidate set. A membership
// change in Caddy is a config load through the admin API, which provisions a new handler
// with new selection-policy values; the policies below drop their own state then.
import type { Backend, Candidates, Policy, PickContext, PickTrace, Rng } from '../types.ts';

export abstract class CaddyPolicy implements Policy {
  abstract readonly name: string;
  /** The upstreams in config order (the `to` list), available or not. */
  protected pool: readonly Backend[] = [];

  setMembers(members: readonly Backend[]): void {
    if (samePool(this.pool, members)) return; // a drained upstream leaving: no new config load
    this.pool = members.slice();
    this.reloaded();
  }

  /** A new config was loaded: the policy starts again from its zero value. */
  protected reloaded(): void {}

  abstract pick(candidates: Candidates, ctx: PickContext, trace?: PickTrace): Backend | undefined;
}

function samePool(a: readonly Backend[], b: readonly Backend[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Go's math/rand Intn(n) as a draw from the seeded stream: uniform in [0, n). */
export function intn(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/**
 * selectionpolicies.go selectRandomHost: reservoir sampling over the available hosts
 * (the i-th available one replaces the choice with probability 1/i).
 */
export function reservoirPick(pool: readonly Backend[], c: Candidates, rng: Rng, keep: (b: Backend) => boolean = () => true): Backend | undefined {
  let chosen: Backend | undefined;
  let count = 0;
  for (const b of pool) {
    if (!c.has(b) || !keep(b)) continue;
    count++;
    if (intn(rng, count) === 0) chosen = b;
  }
  return chosen;
}
