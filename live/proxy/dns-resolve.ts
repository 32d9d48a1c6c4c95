// The two ways discovery asks DNS for a name's addresses. Both return every address (A and
// AAAA), and both throw on NXDOMAIN, SERVFAIL or a timeout, so a failed lookup is never
// mistaken for "no replicas".
import { promises as dns } from 'node:dns';

/** Resolves a name to its addresses; `signal` aborts the query (the caller's timeout). */
export type Resolve = (host: string, signal: AbortSignal) => Promise<string[]>;

/**
 * getaddrinfo through libuv: honours /etc/hosts and resolv.conf's search domains and
 * ndots, as Kubernetes sets them up for a pod. It cannot be cancelled; the caller's
 * timeout stops waiting for it, and the lookup itself ends on resolv.conf's own timeout.
 */
export const systemResolve: Resolve = async (host) => {
  const found = await dns.lookup(host, { all: true });
  return found.map((a) => a.address);
};

/**
 * Queries one DNS server directly (`127.0.0.1:5353`, `[::1]:53`) for A and AAAA. A name
 * with records of only one family answers NODATA for the other: that half is empty, not
 * an error. Any other failure of either half fails the whole lookup.
 */
export function serverResolve(server: string, timeoutMs: number): Resolve {
  return async (host, signal) => {
    // Two tries that end before the caller's timeout, so a dead server reports c-ares's own
    // ETIMEOUT (measured with Node 20's c-ares: about 2 × `timeout` per try).
    const resolver = new dns.Resolver({ timeout: Math.max(1, Math.floor(timeoutMs / 5)), tries: 2 });
    resolver.setServers([server]);
    const cancel = () => resolver.cancel();
    signal.addEventListener('abort', cancel, { once: true });
    const orNoData = (p: Promise<string[]>) => p.catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENODATA') return [];
      throw err;
    });
    try {
      const [v4, v6] = await Promise.all([orNoData(resolver.resolve4(host)), orNoData(resolver.resolve6(host))]);
      return [...v4, ...v6];
    } finally {
      signal.removeEventListener('abort', cancel);
    }
  };
}
