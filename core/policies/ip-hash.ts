// The original project's source hashing, kept for comparison: murmur3(key) modulo the
// number of current candidates (NGINX `ip_hash` and HAProxy `balance source` with
// map-based hashing work the same way). Any change to the candidate list — a backend
// added, removed, ejected or unhealthy — remaps most keys: from 3 to 4 backends only
// keys with h mod 12 < 3 stay, so ~75 % move. That is the finding the consistent
// policies (ring-hash, maglev, rendezvous, bounded-load) exist to fix.
import type { Backend, Candidates, PickContext, Policy } from '../types.ts';
import { definePolicy } from './define.ts';
import { keyHashOf, pickByModulo } from './hashing.ts';

export class IpHash implements Policy {
  readonly name = 'ip-hash';

  setMembers(): void {}

  pick(c: Candidates, ctx: PickContext): Backend {
    return pickByModulo(c, keyHashOf(ctx.hashKey));
  }
}

export const ipHash = definePolicy({
  name: 'ip-hash',
  options: {},
  traits: { hashKey: true, liveWeights: false },
  create: () => new IpHash(),
});
