// The arrival schedule, shared by both engines: the simulator feeds it to its event loop,
// the live load generator replays it against real processes. Pure and lazy: one arrival at
// a time from the experiment and its own seeded streams, never an array of all requests.
import { sample } from '../core/distributions.ts';
import type { Rng } from '../core/types.ts';
import { rngStream } from '../core/rng.ts';
import type { WorkloadConfig } from './schema.ts';
import { TraceArrivals } from './trace/arrivals.ts';

/** One client request to send: `client` indexes the population (see clientAddress). */
export interface Arrival {
  /** 0, 1, 2, … in the order the schedule issues them. */
  id: number;
  atMs: number;
  client: number;
  /** Closed loop only: the user who sends it and must be told of its response. */
  user?: number;
  /** Trace replay: this request's method and path (else the workload's) and service time (else the servers' distribution). */
  method?: string;
  path?: string;
  serviceMs?: number;
}

/** An open-loop schedule: iterable, plus `take()` for the simulator's hot path. */
export interface ArrivalStream extends Iterator<Arrival>, Iterable<Arrival> {
  take(): Arrival | undefined;
}

/** Open loops are a plain iterator; closed loops issue the next request when told of a response. */
export type Schedule =
  | { kind: 'open'; arrivals: ArrivalStream }
  | { kind: 'closed'; loop: ClosedLoop };

export function workloadSchedule(w: WorkloadConfig, seed: number): Schedule {
  if (w.trace) return { kind: 'open', arrivals: new TraceArrivals(w, seed) };
  if (w.arrival?.process === 'closed') return { kind: 'closed', loop: new ClosedLoop(w, seed) };
  return { kind: 'open', arrivals: openLoopArrivals(w, seed) };
}

/**
 * Client i's address, used as the hash key by hashing policies in both engines (the live
 * generator binds this source address): 127.0.0.2, 127.0.0.3, … (.1 is the proxy's own).
 */
export function clientAddress(clientIndex: number): string {
  const n = clientIndex + 2;
  return `127.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

/** Poisson (exponential gaps, first arrival after one gap) or constant (at 0, gap, 2·gap, …). */
export function openLoopArrivals(w: WorkloadConfig, seed: number): OpenLoop {
  return new OpenLoop(w, seed);
}

/**
 * An open-loop schedule: iterable like a generator, plus `take()` for the simulator's hot
 * path (no `{ value, done }` wrapper per request).
 */
export class OpenLoop implements ArrivalStream {
  private id = 0;
  private atMs = 0;
  private readonly gapMs: number;
  private readonly poisson: boolean;
  private readonly gaps: Rng;
  private readonly pickClient: () => number;
  private readonly total: number;
  private readonly endMs: number;

  constructor(w: WorkloadConfig, seed: number) {
    if (w.arrival?.process !== 'poisson' && w.arrival?.process !== 'constant') throw new Error('not an open-loop workload: closed loops are driven by responses (ClosedLoop), traces by their records (TraceArrivals)');
    this.gapMs = 1000 / w.arrival.ratePerSec;
    this.poisson = w.arrival.process === 'poisson';
    this.gaps = rngStream(seed, 'workload/arrivals');
    this.pickClient = clientPicker(w.clients, rngStream(seed, 'workload/clients'));
    this.total = w.requests ?? Infinity;
    this.endMs = w.durationMs ?? Infinity;
  }

  /** The next arrival, or undefined when the schedule is over. */
  take(): Arrival | undefined {
    if (this.id >= this.total) return undefined;
    const id = this.id;
    const atMs = this.poisson ? this.atMs - this.gapMs * Math.log(1 - this.gaps()) : id * this.gapMs;
    if (atMs >= this.endMs) { this.id = this.total; return undefined; }
    this.atMs = atMs;
    this.id++;
    return { id, atMs, client: this.pickClient() };
  }

  next(): IteratorResult<Arrival> {
    const value = this.take();
    return value ? { done: false, value } : { done: true, value: undefined };
  }

  [Symbol.iterator](): this { return this; }
}

/**
 * `concurrency` users, each with its own stream (think times, client choice), so a user's
 * sequence does not depend on the order in which responses come back — the live generator
 * sees a different order and still replays the same per-user choices.
 */
export class ClosedLoop {
  readonly users: number;
  private issued = 0;
  private readonly total: number;
  private readonly endMs: number;
  private readonly streams: Array<{ think: Rng; pickClient: () => number }> = [];

  constructor(private readonly w: WorkloadConfig, seed: number) {
    if (w.arrival?.process !== 'closed') throw new Error('not a closed-loop workload');
    this.users = w.arrival.concurrency;
    this.total = w.requests ?? Infinity;
    this.endMs = w.durationMs ?? Infinity;
    for (let u = 0; u < this.users; u++) {
      const rng = rngStream(seed, `workload/user/${u}`);
      this.streams.push({ think: rng, pickClient: clientPicker(w.clients, rng) });
    }
  }

  /** Each user's first request, after one think time (all at 0 when thinking takes no time). */
  *start(): Generator<Arrival> {
    for (let u = 0; u < this.users; u++) {
      const a = this.issue(u, 0);
      if (a) yield a;
    }
  }

  /** The user's next request after its previous response reached it at `responseAtMs`. */
  after(user: number, responseAtMs: number): Arrival | undefined {
    return this.issue(user, responseAtMs);
  }

  private issue(user: number, fromMs: number): Arrival | undefined {
    if (this.issued >= this.total) return undefined;
    const s = this.streams[user];
    const w = this.w;
    const atMs = fromMs + (w.arrival?.process === 'closed' ? sample(w.arrival.thinkTimeMs, s.think) : 0);
    if (atMs >= this.endMs) return undefined;
    return { id: this.issued++, atMs, client: s.pickClient(), user };
  }
}

/** Draws client indexes: uniform, or Zipf(s) by inverting the cumulative table. */
export function clientPicker(c: WorkloadConfig['clients'], rng: Rng): () => number {
  const n = c.count;
  if (n === 1) return () => 0;
  if (c.popularity.dist === 'uniform' || c.popularity.s === 0) return () => Math.floor(rng() * n);
  const cdf = zipfCdf(n, c.popularity.s);
  return () => {
    const u = rng();
    // First index whose cumulative share exceeds u.
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] > u) hi = mid; else lo = mid + 1;
    }
    return lo;
  };
}

function zipfCdf(n: number, s: number): Float64Array {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) { total += 1 / Math.pow(k + 1, s); cdf[k] = total; }
  for (let k = 0; k < n; k++) cdf[k] /= total;
  cdf[n - 1] = 1; // guard against rounding leaving the top below 1
  return cdf;
}
