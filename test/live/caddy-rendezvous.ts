// Caddy 2.6's ip_hash written out again for the tests that ask the real binary, apart from
// core's model (core/policies/caddy-ip-hash.ts) so that a slip in the model cannot hide in
// the expectation: selectionpolicies.go hostByHashing, the highest fnv32a(client IP + dial text).

/** fnv-1a 32 (Go's hash/fnv New32a). */
export function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}

/** Rendezvous over the runner's named upstreams ({http.vars.sN}), in pool order; a later upstream wins only with a strictly higher hash. */
export const rendezvous = (ip: string, ids: string[]): string =>
  ids.reduce((best, id) => (fnv32a(`${ip}{http.vars.${id}}`) > fnv32a(`${ip}{http.vars.${best}}`) ? id : best));
