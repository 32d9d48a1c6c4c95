// The service-time estimator: what each logged request would take on an idle server.
//   1. upstream interval: [atMs, atMs + max(0, upstreamMs − overheadMs)] — the logged
//      upstream time (NGINX $upstream_response_time, HAProxy Tr, Fulcrum's client-side
//      latency) less the part spent outside the server (network round trip, proxy);
//   2. with recordedConcurrency c (the recorded servers' workers), the server's own queueing
//      comes off too: the recorded server is a FIFO queue with c workers, so a request starts
//      service when it arrives or when the earliest of the c workers frees up, whichever is
//      later, and its service time is departure − start (the Kiefer–Wolfowitz recursion run
//      on observed departures). Needs the server of each request (Fulcrum, NGINX, HAProxy
//      log it; a plain CSV does not, and then step 1 alone applies).
// Without step 2, queueing in the recording is served again in the replay: the tail grows.
import type { TraceConfig } from '../schema.ts';
import type { TraceRecord } from './record.ts';

export class ServiceEstimator {
  /** Per recorded server, when each of its c workers is next free. */
  private readonly freeAtMs = new Map<string, Float64Array>();

  constructor(private readonly o: Pick<TraceConfig, 'overheadMs' | 'recordedConcurrency'>) {}

  /** Call in arrival order (readTrace's order): the queue reconstruction depends on it. */
  estimateMs(r: TraceRecord): number {
    const upstreamMs = Math.max(0, r.upstreamMs - this.o.overheadMs);
    const c = this.o.recordedConcurrency;
    if (c === undefined || r.server === undefined) return upstreamMs;
    let workers = this.freeAtMs.get(r.server);
    if (!workers) { workers = new Float64Array(c); this.freeAtMs.set(r.server, workers); }
    let earliest = 0;
    for (let k = 1; k < c; k++) if (workers[k] < workers[earliest]) earliest = k;
    const departMs = r.atMs + upstreamMs;
    const startMs = Math.max(r.atMs, workers[earliest]);
    workers[earliest] = departMs;
    return Math.max(0, departMs - startMs);
  }
}
