// Consistent hashing with bounded loads (Mirrokni, Thorup & Zadimoghaddam, SODA 2018;
// HAProxy `hash-balance-factor`, Envoy `hash_balance_factor`). It wraps any hash table
// (table.ts: ring by default, Maglev or rendezvous): a key walks its preferences and takes the first candidate whose in-flight
// count, with this request, stays within c × its fair share of all candidates' in-flight
// requests. Affinity holds while load is even; a hot key spills over to the next backend
// on the ring instead of melting its own.
//
// The bound (Mirrokni et al. §2; HAProxy chash_server_is_eligible, Envoy likewise weighted):
//   D = 1 + Σ_candidates inFlight                   (this request included)
//   bound_b = ceil(c × D × w_b / W)                  (W = Σ_candidates w)
// With equal weights that is ceil(c × D / n), the paper's and the brief's formula. Table
// entries follow `weight` (as ring-hash); the bound follows `effectiveWeight`, so a backend
// in slow start is also held to a smaller share of the load.
//
// Why a candidate always fits (pigeonhole): Σ_b bound_b ≥ Σ_b c·D·w_b/W = c·D ≥ D, and
// Σ_b bound_b is an integer, so Σ_b bound_b ≥ D = T + 1 > T = Σ_b inFlight_b. Hence some
// candidate has inFlight_b < bound_b, i.e. inFlight_b + 1 ≤ bound_b. Every candidate is a
// member and every walk visits every member, so one full walk reaches it.
// (`ceilBound` shaves float noise like 1.1 × 10 / 11 = 1.0000000000000002 so it does not
// round up to 2; the shave is relative 1e-12, so the sum stays ≥ D below 10^12 requests.)
//
// Σ inFlight is summed per pick over the candidates: O(n) additions, no allocation,
// ~1.4 µs at n = 1000. HAProxy and Envoy read a running cluster-wide counter instead, but
// that also counts requests still running on ejected or excluded backends, which would
// loosen the bound over the candidates that the tests hold us to.
import { z } from 'zod';
import type { Backend, Candidates, PickContext, PickTrace, Policy } from '../types.ts';
import { definePolicy } from './define.ts';
import { keyHashOf, pickByModulo, traceStep } from './hashing.ts';
import { MaglevTable, maglevTableSizeOption } from './maglev.ts';
import { RendezvousTable } from './rendezvous.ts';
import { Ring, vnodesOption } from './ring.ts';
import type { HashTable, TableBuilder } from './table.ts';

export interface BoundedLoadOptions {
  /** The table whose walk gives each key's preferences; default a ring of 160 vnodes per unit of weight. */
  table?: TableBuilder;
  /** c ≥ 1: no candidate above c × its share of the load (1.25 = HAProxy's hash-balance-factor 125). */
  balanceFactor?: number;
}

const DEFAULT_BALANCE_FACTOR = 1.25;

/** ceil(x), ignoring float noise just above an integer. */
export function ceilBound(x: number): number {
  return Math.ceil(x - x * 1e-12);
}

export class BoundedLoad implements Policy {
  readonly name = 'bounded-load';
  readonly balanceFactor: number;
  private readonly build: TableBuilder;
  private table: HashTable;

  constructor(o: BoundedLoadOptions = {}) {
    this.balanceFactor = o.balanceFactor ?? DEFAULT_BALANCE_FACTOR;
    if (!(this.balanceFactor >= 1)) throw new Error(`balanceFactor must be >= 1, got ${this.balanceFactor}`);
    this.build = o.table ?? ((members) => Ring.build(members, {}));
    this.table = this.build([]);
  }

  setMembers(members: readonly Backend[]): void {
    this.table = this.build(members);
  }

  pick(c: Candidates, ctx: PickContext, trace?: PickTrace): Backend {
    const keyHash = keyHashOf(ctx.hashKey);
    const list = c.list;
    let demand = 1;
    for (let i = 0; i < list.length; i++) demand += list[i].inFlight;
    const evenBound = ceilBound((this.balanceFactor * demand) / list.length);
    const perWeight = (this.balanceFactor * demand) / c.totalWeight;
    const chosen = this.table.walk(keyHash, (b) => {
      if (!c.has(b)) {
        if (trace) traceStep(trace, b.id);
        return false;
      }
      const bound = c.uniformWeights ? evenBound : ceilBound(perWeight * b.effectiveWeight);
      if (b.inFlight + 1 <= bound) {
        if (trace) traceStep(trace, b.id, b.inFlight);
        return true;
      }
      if (trace) noteOverBound(trace, b);
      return false;
    });
    // The fallback is unreachable when every candidate is a member (see the proof above).
    return chosen ?? pickByModulo(c, keyHash);
  }
}

/** The tables bounded load can wrap, by the option's name. */
const TABLES = {
  ring: (o: { vnodes: number }): TableBuilder => (members) => Ring.build(members, { vnodes: o.vnodes }),
  maglev: (o: { maglevTableSize: number }): TableBuilder => (members) => MaglevTable.build(members, o.maglevTableSize),
  rendezvous: (): TableBuilder => (members) => new RendezvousTable(members),
};

export const boundedLoad = definePolicy({
  name: 'bounded-load',
  options: {
    /** Which table gives each key's preferences (Envoy bounds ring hash and Maglev alike). */
    table: z.enum(['ring', 'maglev', 'rendezvous']).default('ring'),
    /** Ring points per unit of weight (table "ring"). */
    vnodes: vnodesOption,
    /** Maglev table size (table "maglev"). */
    maglevTableSize: maglevTableSizeOption,
    /** c: no backend above ceil(c × average in-flight) (Mirrokni et al.; HAProxy hash-balance-factor 125 = 1.25). */
    balanceFactor: z.number().min(1).max(100).default(DEFAULT_BALANCE_FACTOR),
  },
  traits: { hashKey: true, liveWeights: false },
  create: (o) => new BoundedLoad({ table: TABLES[o.table](o), balanceFactor: o.balanceFactor }),
});

/** A candidate passed over because it is full: in `considered` (with its load) and `skipped`. */
function noteOverBound(trace: PickTrace, b: Backend): void {
  traceStep(trace, b.id, b.inFlight);
  if (!trace.skipped.some((s) => s.id === b.id)) trace.skipped.push({ id: b.id, reason: 'over-bound' });
}
