// Helpers shared by the hashing policies (ip-hash, ring-hash, maglev, rendezvous, bounded-load).
import type { Backend, Candidates, PickTrace } from '../types.ts';
import { murmur3 } from '../hash.ts';
/**
 * The hash of a pick's key (the client address). A request without a key hashes as the
 * empty string: all of them share one backend (and its fallbacks), deterministically,
 * instead of failing. (HAProxy's `balance source` falls back to round robin there; we
 * keep the policy's affinity contract instead.)
 */
export function keyHashOf(hashKey: string | undefined): number {
  return murmur3(hashKey ?? '');
}

/**
 * Members in id order (UTF-16 code-unit order, never locale order). Table builders walk
 * members in this order so a table depends only on the set of (id, weight) pairs, not on
 * the order backends were added: two proxies with the same backends agree on every key.
 * Envoy's Maglev sorts its hosts for the same reason.
 */
export function sortedById<T extends { readonly id: string }>(members: readonly T[]): T[] {
  return [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** How many preference steps a trace keeps: enough to explain a fallback, small enough to log per request. */
export const MAX_TRACED_STEPS = 8;

/** Appends one step of a preference walk to `trace.considered`, once per backend. */
export function traceStep(trace: PickTrace, id: string, score?: number): void {
  const steps = (trace.considered ??= []);
  if (steps.length >= MAX_TRACED_STEPS || steps.some((s) => s.id === id)) return;
  steps.push(score === undefined ? { id } : { id, score });
}

/**
 * Last resort when a table walk finds no candidate: only possible if `pick` is called with
 * backends the policy was never told about (`setMembers` not called), or when the only
 * candidates own no slot (a full CLB ring, a Maglev table smaller than the backend count). Deterministic, like the rest: the key modulo the candidate count.
 */
export function pickByModulo(c: Candidates, keyHash: number): Backend {
  return c.list[keyHash % c.list.length];
}
