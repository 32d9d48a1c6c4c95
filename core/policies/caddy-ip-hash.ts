// Caddy 2.6 `lb_policy ip_hash` (selectionpolicies.go IPHashSelection.Select → hostByHashing
// at v2.6.2): rendezvous (highest random weight) hashing. For the client's IP (RemoteAddr
// without the port) every available upstream scores fnv32a(ip + upstream.String()), where
// String() is the upstream's `dial` text as configured (hosts.go); the strictly highest score
// wins, so a score of 0 never wins. Only the address string is hashed, so the model must know
// it: the live runner dials `{http.vars.<id>}` placeholders (replaced after the pick), and
// `dial` here is that text with <id> standing for the server id. An upstream leaving moves only
// its own clients. Caddy 2.6.2 has no client_ip_hash (added in 2.7) and no weights.
import { z } from 'zod';
import type { Backend, Candidates, PickContext } from '../types.ts';
import { definePolicy } from './define.ts';
import { CaddyPolicy } from './caddy-pool.ts';

/** The dial text the live runner writes for server <id> (experiments/proxies/caddy-settings.ts), hashed by ip_hash. */
export const CADDY_DIAL_TEMPLATE = '{http.vars.<id>}';

/** FNV-1a, 32 bits, over the UTF-8 bytes of `s` (Go's hash/fnv New32a). */
export function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(s)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class CaddyIpHash extends CaddyPolicy {
  readonly name = 'caddy-ip-hash';
  private dials = new Map<Backend, string>();

  constructor(private readonly dialTemplate: string) { super(); }

  protected override reloaded(): void {
    this.dials = new Map(this.pool.map((b) => [b, this.dialTemplate.replaceAll('<id>', b.id)]));
  }

  pick(c: Candidates, ctx: PickContext): Backend | undefined {
    const ip = ctx.hashKey ?? '';
    let highest = 0;
    let chosen: Backend | undefined;
    for (const b of this.pool) {
      if (!c.has(b)) continue;
      const h = fnv32a(ip + this.dials.get(b)!);
      if (h > highest) {
        highest = h;
        chosen = b;
      }
    }
    return chosen;
  }
}

export const caddyIpHash = definePolicy({
  name: 'caddy-ip-hash',
  options: {
    /** The upstream's `dial` text, `<id>` standing for the server id. */
    dialTemplate: z.string().min(1).default(CADDY_DIAL_TEMPLATE),
  },
  traits: { hashKey: true, liveWeights: false },
  create: (o) => new CaddyIpHash(o.dialTemplate),
});
