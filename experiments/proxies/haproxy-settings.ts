// What an experiment means on HAProxy 2.6, in HAProxy's own vocabulary (its
// configuration.txt, sections 4 and 5). The translation (experiment → these settings)
// lives in haproxy.ts; the config generator (live/) and the model (core/, sim/) both read
// only this, so the proxy that runs and the model that predicts it cannot disagree.

export interface HaproxyHashType {
  /** `hash-type map-based` (HAProxy's default) or `consistent`. */
  method: 'map-based' | 'consistent';
  function: 'sdbm' | 'djb2' | 'wt6' | 'crc32';
  /** The `avalanche` modifier. */
  avalanche: boolean;
}

export type HaproxyBalance =
  | { algorithm: 'roundrobin' | 'static-rr' | 'leastconn' | 'first' }
  /** `balance random(<draws>)`: the least loaded of `draws` random servers. */
  | { algorithm: 'random'; draws: number }
  /** `balance source`: the client's IP, hashed. */
  | { algorithm: 'source'; hashType: HaproxyHashType; hashBalanceFactor?: number };

export interface HaproxySettings {
  balance: HaproxyBalance;
  /** `retries`: attempts after the first (0: none). */
  retries: number;
  /** `option redispatch <interval>`; absent: off. -1 redispatches on the last retry (the option's default). */
  redispatch?: number;
  /** `retry-on` keywords, e.g. ['conn-failure', 'empty-response', '503']. */
  retryOn: string[];
  timeouts: { connectMs: number; serverMs: number; clientMs: number; queueMs?: number; checkMs?: number };
  /** `option httpchk GET <path>` and `check inter rise fall` on every server. */
  check?: { path: string; interMs: number; rise: number; fall: number; fastinterMs?: number; downinterMs?: number };
  /** `observe layer7 error-limit N on-error X`: passive health on live traffic. */
  observe?: { errorLimit: number; onError: 'fastinter' | 'fail-check' | 'sudden-death' | 'mark-down' };
  /** `slowstart`: a server coming up ramps its weight over this long. */
  slowstartMs?: number;
  /** Per-server `maxconn`: more concurrent requests wait in the server's queue. */
  maxconn?: number;
}
