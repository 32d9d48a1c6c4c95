// One interface for the consistent-hashing tables (ring, Maglev, rendezvous): an immutable
// table built from the members on a membership change, and one walk over a key's
// preferences. Lookup is "the first candidate on the walk"; bounded load is "the first
// candidate on the walk that is under its bound" (bounded-load.ts wraps any table, as
// Envoy's hash_balance_factor does for ring hash and Maglev alike).
import type { Backend, Candidates, PickTrace } from '../types.ts';
import { traceStep } from './hashing.ts';

export interface HashTable {
  /** The members the table was built from. */
  readonly members: readonly Backend[];
  /**
   * Visits the key's preferences in order, every member at least once, until `accept`
   * returns true; returns that backend, or undefined after a full round.
   */
  walk(keyHash: number, accept: (b: Backend) => boolean): Backend | undefined;
}

/** Builds a table from the policy's current members. */
export type TableBuilder = (members: readonly Backend[]) => HashTable;

/** The key's first preference that is a candidate: a non-candidate's keys fall to their next preference, and nobody else's move. */
export function lookup(table: HashTable, c: Candidates, keyHash: number, trace?: PickTrace): Backend | undefined {
  return table.walk(keyHash, (b) => {
    if (trace) traceStep(trace, b.id);
    return c.has(b);
  });
}
