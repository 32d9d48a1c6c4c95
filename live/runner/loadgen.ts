// The load generator. Open loop: each request goes at its scheduled time whether or not
// earlier ones have answered (a closed loop would hide queueing). Closed loop: each user
// sends its next request a think time after its previous answer, as the experiment says.
// Both follow the experiment's schedule from the same seed as the simulator. Each client
// has its own loopback source address, bound as the local address of its connections, so
// the proxy sees real, distinct client IPs — no forged headers. Every request carries its id
// in x-request-id; the runner joins what the client saw with the proxy's own log by it
// (join-log.ts), so nothing here reads anything proxy-specific.
import { Pool } from 'undici';
import type { Arrival, ClosedLoop } from '../../experiments/workload.ts';
import { replayHeaders } from '../../http/replay.ts';

export interface Completed {
  id: number;
  client: number;
  /** Send time, ms since the run started (the simulator's time zero). */
  startMs: number;
  endMs: number;
  /** 0 when no HTTP answer arrived (the connection failed or was aborted). */
  status: number;
  /** Transport error seen by the client. */
  error?: string;
}

export interface LoadTarget {
  target: string;
  /**
   * Several balancers (experiments/balancers.ts): request `id` of `client` goes to
   * targets[of(id, client)] instead of `target`, as the simulator's requests reach its instances.
   */
  spread?: { targets: readonly string[]; of(id: number, client: number): number };
  method: string;
  path: string;
  addressOf: (client: number) => string;
  /** The replicas' control token: a replayed trace's service times go to them with it (http/replay.ts). */
  replayToken?: string;
  /** A request gets no longer than this: nothing may hang the run. */
  clientTimeoutMs: number;
  /** Time zero of the run, from performance.now(). */
  t0: number;
  onComplete: (r: Completed) => void;
}

export interface LoadReport {
  sent: number;
  /** Requests per second the schedule asked for, and what went out. */
  requestedPerSec: number;
  achievedPerSec: number;
  /** Worst lateness of a send behind its schedule, and how many sends were over 10 ms late. */
  maxLagMs: number;
  lateOver10Ms: number;
}

/** Sends requests, one keep-alive pool per client address; tracks lateness and rate. */
class Sender {
  private readonly pools = new Map<number, Pool>();
  private readonly pending = new Set<Promise<void>>();
  private sent = 0;
  private maxLagMs = 0;
  private lateOver10Ms = 0;
  private firstAtMs = 0;
  private lastAtMs = 0;
  private firstSentMs = 0;
  private lastSentMs = 0;

  constructor(private readonly target: LoadTarget) {}

  now(): number { return performance.now() - this.target.t0; }

  send(a: Arrival, then?: (r: Completed) => void): void {
    const t = this.now();
    const lag = Math.max(0, t - a.atMs);
    if (lag > this.maxLagMs) this.maxLagMs = lag;
    if (lag > 10) this.lateOver10Ms++;
    if (this.sent === 0) { this.firstAtMs = a.atMs; this.firstSentMs = t; }
    this.lastAtMs = a.atMs;
    this.lastSentMs = t;
    this.sent++;
    const finish = (r: Omit<Completed, 'id' | 'client' | 'startMs' | 'endMs'>) => {
      const done = { id: a.id, client: a.client, startMs: t, endMs: this.now(), ...r };
      this.target.onComplete(done);
      then?.(done);
    };
    const target = this.target;
    const headers = { 'x-request-id': String(a.id), ...(a.serviceMs !== undefined && target.replayToken ? replayHeaders(a.serviceMs, target.replayToken) : {}) };
    const p = this.pool(a).request({ method: a.method ?? target.method, path: a.path ?? target.path, headers })
      .then(async (res) => {
        try {
          await res.body.dump();
        } catch (err) { // headers came, the body did not: an aborted response is not an answer
          finish({ status: 0, error: (err as Error).message });
          return;
        }
        finish({ status: res.statusCode });
      }, (err: Error & { code?: string }) => finish({ status: 0, error: err.code ?? err.message }))
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  async finish(): Promise<LoadReport> {
    while (this.pending.size) await Promise.all(this.pending);
    await Promise.all([...this.pools.values()].map((p) => p.close()));
    const rate = (spanMs: number) => (this.sent > 1 ? ((this.sent - 1) * 1_000) / Math.max(1e-3, spanMs) : 0);
    return {
      sent: this.sent,
      requestedPerSec: rate(this.lastAtMs - this.firstAtMs),
      achievedPerSec: rate(this.lastSentMs - this.firstSentMs),
      maxLagMs: this.maxLagMs,
      lateOver10Ms: this.lateOver10Ms,
    };
  }

  /** The keep-alive pool of the arrival's client towards the balancer it reaches. */
  private pool(a: Arrival): Pool {
    const spread = this.target.spread;
    const index = spread ? spread.of(a.id, a.client) : 0;
    const key = spread ? a.client * spread.targets.length + index : a.client;
    let p = this.pools.get(key);
    if (!p) {
      p = new Pool(spread ? spread.targets[index] : this.target.target, {
        localAddress: this.target.addressOf(a.client),
        connections: 64,
        headersTimeout: this.target.clientTimeoutMs,
        bodyTimeout: this.target.clientTimeoutMs,
        keepAliveTimeout: 4_000,
      });
      this.pools.set(key, p);
    }
    return p;
  }
}

export async function runOpenLoad(o: LoadTarget & { arrivals: Iterable<Arrival> }): Promise<LoadReport> {
  const sender = new Sender(o);
  for (const a of o.arrivals) {
    await sleepUntil(o.t0, a.atMs);
    sender.send(a);
  }
  return sender.finish();
}

export async function runClosedLoad(o: LoadTarget & { loop: ClosedLoop }): Promise<LoadReport> {
  const sender = new Sender(o);
  let outstanding = 0;
  let allDone!: () => void;
  const done = new Promise<void>((resolve) => { allDone = resolve; });
  const issue = (a: Arrival | undefined) => {
    if (!a) { if (outstanding === 0) allDone(); return; }
    outstanding++;
    void sleepUntil(o.t0, a.atMs).then(() => sender.send(a, (r) => {
      outstanding--;
      issue(o.loop.after(a.user!, r.endMs));
    }));
  };
  for (const a of o.loop.start()) issue(a);
  if (outstanding === 0) allDone();
  await done;
  return sender.finish();
}

/**
 * setTimeout alone is only millisecond-accurate and drifts under load: sleep with it to
 * within 2 ms, then yield to I/O until the moment arrives.
 */
async function sleepUntil(t0: number, atMs: number): Promise<void> {
  for (;;) {
    const left = atMs - (performance.now() - t0);
    if (left <= 0) return;
    await new Promise<void>((resolve) => (left > 2 ? setTimeout(resolve, left - 1) : setImmediate(resolve)));
  }
}
