// A proxy under test, as the live runner sees it: started in its own process (never the
// load generator's), changed through its own interface, and measured through its own
// access log and the replicas — nothing depends on Fulcrum's proxy to measure another.
import { join } from 'node:path';
import type { Change, RunConfig } from '../../../experiments/schema.ts';
import type { ProxyName } from '../../../experiments/proxies.ts';

export interface ProxyLaunch {
  /**
   * The servers present at start, with the replicas' URLs and the experiment's weights; with
   * the replicas' Unix sockets too when the launcher asked for them (`replicaSockets`).
   */
  backends: Array<{ id: string; url: string; weight: number; socketPath?: string }>;
  /** The run's validated config: balancer, health, retry, timeouts and `proxies.<name>`. */
  config: RunConfig;
  /** A private folder for the proxy's config, sockets and logs; the runner removes it. */
  workDir: string;
  log: (line: string) => void;
  /** The seed the proxy's own streams derive from (core/rng.ts instanceSeed); default config.seed. */
  seed?: string;
}

/** One client request as the proxy's own access log tells it. */
export interface AccessRecord {
  /** The load generator's request id (sent as x-request-id; the proxy logs it). */
  requestId: string;
  /** Servers tried, in order (`s2|s2|s1`); empty when the proxy answered itself. */
  servers: string[];
  /** The status the proxy sent the client (0: it closed the connection without one). */
  status: number;
  /** The proxy's own error code when it answered itself (Fulcrum's: no_backend, upstream_timeout …), when its log tells. */
  error?: string;
  /** Each attempt's start and end in epoch ms, when the proxy's log gives them. */
  attempts?: Array<{ server: string; startMs: number; endMs: number; ok: boolean }>;
}

/** The proxy's backends at one moment, from its own log (epoch ms): the timeline's `healthy` column. */
export interface MembersRecord {
  atMs: number;
  /** In the proxy's order; routable: it would send a request there now (healthy, not ejected, not draining). */
  servers: Array<{ id: string; routable: boolean }>;
}

export interface ProxyUnderTest {
  readonly name: ProxyName;
  /** Where the load generator sends requests, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  /** The proxy's main process on this host, when there is one: npm run calibrate reads its CPU time. */
  readonly pid?: number;
  /**
   * How long before a change's time the runner calls change(): a proxy that applies changes
   * a known time after it is told (NGINX: the master retires the old workers 100 ms after
   * starting the new ones) is told that much earlier, so the change lands at its time.
   */
  readonly changeLeadMs?: number;
  /** Applies one `changes` entry through the proxy's own interface; `url` is the replica's, for `add`. */
  change(change: Change, url?: string): Promise<void>;
  /** Stops the proxy and all it started (idempotent), then returns its access log, parsed. */
  stop(): Promise<AccessRecord[]>;
  /**
   * After stop(): every change of the backends or their routability, in time order, when the
   * proxy's log tells; without it the runner counts a server healthy while it is a member.
   */
  members?(): MembersRecord[];
  /** The proxy's own metrics, Prometheus text (for `npm run live -- --metrics`), when it has any. */
  metrics?(): Promise<string>;
}

export type ProxyLauncher = ((launch: ProxyLaunch) => Promise<ProxyUnderTest>) & {
  /**
   * Does this run need every replica on a Unix socket as well, at `replicaSocketPath(workDir,
   * id)` (servers added later too)? NGINX's consistent hash names servers by their address.
   */
  replicaSockets?(config: RunConfig): boolean;
};

/** Where the runner puts replica `id`'s Unix socket when the launcher asks for one. */
export const replicaSocketPath = (workDir: string, id: string): string => join(workDir, `${id}.sock`);
