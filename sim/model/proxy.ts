// The proxy as the simulator sees it: sockets and timers are events, and every decision —
// which backend, retry or not, which status — is the core Router's, called exactly as the
// live proxy calls it: start → next → attemptEnded / attemptTimedOut.
import type { AttemptOutcome, Backend } from '../../core/types.ts';
import { isOkStatus } from '../../core/types.ts';
import type { Decision, Router, Step } from '../../core/router.ts';
import type { RequestOutcome, Recorder } from '../../experiments/records.ts';
import { clientAddress } from '../../experiments/workload.ts';
import type { TimerLane } from '../engine/timer-lane.ts';
import type { Attempt, QueueWait, Scheduler, SimRequest } from './events.ts';
import { Fifo } from '../engine/fifo.ts';
import { type Network, scheduleAfterHop } from './network.ts';
import type { ServerModel } from './server.ts';
import type { CpuJob, CpuStation } from './proxy-cpu.ts';

const CONNECT_ERROR: AttemptOutcome = { kind: 'connect-error' };

export interface ProxyOptions {
  scheduler: Scheduler;
  router: Router;
  network: Network;
  /** Server models by the balancer's Backend.seq (an array index beats a Map lookup per attempt). */
  serversBySeq: readonly ServerModel[];
  recorder: Recorder;
  method: string;
  /** Hashing policies get the client address as their key. */
  hashClients: boolean;
  connectTimeoutMs: number;
  /** perTryMs if set, else the request deadline. */
  usualTimeoutMs: number;
  /** The proxy's CPU; absent, the proxy never waits for it. */
  cpu?: CpuStation;
  /** HAProxy mode: per-server maxconn; a server below it takes the oldest queued request. */
  maxconn?: number;
  /** The response reached the client at `endMs`. */
  onFinished(request: SimRequest, endMs: number): void;
  /** Hears each request's decision trace (core `Decision`s) when tracing is on. */
  onDecisions?: (requestId: number, decisions: readonly Decision[]) => void;
}

export class ProxyModel {
  /** Most attempts wait the full per-try timeout (or the whole deadline): one lane for those. */
  private readonly timeoutLane: TimerLane<Attempt>;
  /** HAProxy mode: requests that found every server at maxconn, oldest first (the backend queue). A wait that timed out stays until it reaches the head. */
  private readonly queued = new Fifo<QueueWait>();

  constructor(private readonly opts: ProxyOptions) {
    this.timeoutLane = opts.scheduler.timerLane(opts.usualTimeoutMs, (attempt) => this.attemptTimedOut(attempt, opts.scheduler.nowMs));
  }

  /** The request reached the proxy (after the client hop and the proxy's own overhead). */
  receive(request: SimRequest, nowMs: number): void {
    const cpu = this.opts.cpu;
    if (cpu?.charges('receive')) cpu.submit({ kind: 'receive', request });
    else this.route(request, nowMs);
  }

  /** A CPU worker finished `job`: the proxy goes on with it. */
  cpuDone(job: CpuJob, nowMs: number): void {
    this.opts.cpu!.done();
    switch (job.kind) {
      case 'receive': return this.route(job.request, nowMs);
      case 'retry': return this.retryNow(job.request, nowMs);
      case 'respond': return this.respond(job.request, job.status, job.outcome, nowMs);
    }
  }

  /** The request has had its CPU: the Router starts it. */
  private route(request: SimRequest, nowMs: number): void {
    const opts = this.opts;
    request.flow = opts.router.start({
      method: request.method ?? opts.method,
      hashKey: opts.hashClients ? clientAddress(request.client) : undefined,
      nowMs,
      bodyReplayable: true,
    });
    this.follow(request, opts.router.next(request.flow, nowMs), nowMs);
  }

  /** The TCP handshake finished: a dead process refuses, a live one gets the request. */
  connected(attempt: Attempt, nowMs: number): void {
    if (attempt.request.current !== attempt) return; // timed out while connecting
    const server = attempt.server;
    if (server.crashed) return this.attemptEnded(attempt, CONNECT_ERROR, nowMs);
    const hop = this.opts.network.proxyToServer;
    const wireMs = hop.zero ? 0 : hop.sampleMs();
    if (wireMs === 0) return server.arrive(attempt);
    attempt.kind = 'server-arrive';
    scheduleAfterHop(this.opts.scheduler, hop, wireMs, attempt);
  }

  /** The server's answer (or reset) is back at the proxy. */
  attemptEnded(attempt: Attempt, outcome: AttemptOutcome, nowMs: number): void {
    const request = attempt.request;
    if (request.current !== attempt) return; // the proxy already gave up on it
    request.current = undefined;
    this.timeoutLane.cancel(attempt);
    if (attempt.heapTimer) attempt.heapTimer.attempt = undefined;
    const flow = request.flow!;
    const step = this.opts.router.attemptEnded(flow, nowMs, outcome);
    this.opts.recorder.attemptEnded(attempt.backend.id, nowMs, flow.ended.ok);
    this.follow(request, step, nowMs);
    this.serveQueue(attempt.backend, nowMs);
  }

  /**
   * The attempt's timer fired (settling disarms it, so the attempt is current); the Router
   * knows whether it stood for the per-try timeout or the deadline.
   */
  attemptTimedOut(attempt: Attempt, nowMs: number): void {
    const request = attempt.request;
    request.current = undefined;
    const flow = request.flow!;
    const step = this.opts.router.attemptTimedOut(flow, nowMs);
    this.opts.recorder.attemptEnded(attempt.backend.id, nowMs, flow.ended.ok);
    this.follow(request, step, nowMs);
    this.serveQueue(attempt.backend, nowMs);
  }

  /** HAProxy mode: a slot freed on `backend`; it takes queued requests while it has room (process_srv_queue). */
  private serveQueue(backend: Backend, nowMs: number): void {
    const maxconn = this.opts.maxconn;
    if (maxconn === undefined) return;
    while (this.queued.length > 0 && backend.inFlight < maxconn && this.opts.router.balancer.isRoutable(backend.id)) {
      const wait = this.queued.shift()!;
      const request = wait.request;
      if (request.waiting !== wait) continue; // timed out meanwhile
      request.waiting = undefined;
      this.follow(request, this.opts.router.dequeue(request.flow!, backend, nowMs), nowMs);
    }
  }

  /** HAProxy mode: `timeout queue` ran out; the request is still waiting only if `wait` is its current stay. */
  queueTimedOut(wait: QueueWait, nowMs: number): void {
    const request = wait.request;
    if (request.waiting !== wait) return; // served meanwhile (and perhaps queued again since)
    request.waiting = undefined;
    this.follow(request, this.opts.router.queueTimedOut(request.flow!, nowMs), nowMs);
  }

  /** A retry's backoff is over. Decisions made by decideRetry keep it inside the deadline. */
  retry(request: SimRequest, nowMs: number): void {
    const cpu = this.opts.cpu;
    if (cpu?.charges('retry') && !request.flow!.done) cpu.submit({ kind: 'retry', request });
    else this.retryNow(request, nowMs);
  }

  private retryNow(request: SimRequest, nowMs: number): void {
    const flow = request.flow!;
    if (flow.done) return;
    this.follow(request, this.opts.router.next(flow, nowMs), nowMs);
  }

  private follow(request: SimRequest, step: Step, nowMs: number): void {
    switch (step.kind) {
      case 'attempt': return this.startAttempt(request, step.backend, step.timeoutMs, nowMs);
      case 'retry':
        request.kind = 'retry';
        return this.opts.scheduler.schedule(step.delayMs, request);
      case 'respond': return this.finish(request, step.status, isOkStatus(step.status) ? 'ok' : 'error', nowMs);
      case 'fail': return this.finish(request, step.status, step.error, nowMs);
      case 'reject': throw new Error('the simulated client sends no body, so none can exceed a size cap');
      case 'queue': {
        const wait: QueueWait = { request };
        request.waiting = wait;
        this.queued.push(wait);
        return this.opts.scheduler.schedule(step.timeoutMs, { kind: 'queue-timeout', wait });
      }
    }
  }

  private startAttempt(request: SimRequest, backend: Backend, timeoutMs: number, nowMs: number): void {
    const opts = this.opts;
    const attempt: Attempt = {
      kind: 'connect', outcome: undefined, request, backend, server: opts.serversBySeq[backend.seq], epoch: -1, slot: -1, heapTimer: undefined,
      laneAtMs: 0, laneSeq: 0, lanePrev: undefined, laneNext: undefined, inLane: false,
    };
    request.current = attempt;
    opts.recorder.attemptStarted(backend.id, nowMs);
    // One timer per attempt: the router already capped it at the time left to the deadline.
    // In the lane whenever it keeps time order (almost always: a deadline's remainder is the
    // lane's delay or an ulp off it), so settling can take it out; else in the heap.
    if (!opts.scheduler.tryScheduleInLane(this.timeoutLane, timeoutMs, attempt)) {
      attempt.heapTimer = { kind: 'attempt-timeout', attempt };
      opts.scheduler.schedule(timeoutMs, attempt.heapTimer);
    }
    const connect = opts.network.connect;
    const connectMs = connect.zero ? 0 : connect.sampleMs();
    if (connectMs === 0) this.connected(attempt, nowMs);
    else if (connectMs > opts.connectTimeoutMs) {
      attempt.kind = 'attempt-reply';
      attempt.outcome = CONNECT_ERROR;
      opts.scheduler.schedule(opts.connectTimeoutMs, attempt);
    } else scheduleAfterHop(opts.scheduler, connect, connectMs, attempt);
  }

  private finish(request: SimRequest, status: number, outcome: RequestOutcome, nowMs: number): void {
    const cpu = this.opts.cpu;
    if (cpu?.charges('respond')) cpu.submit({ kind: 'respond', request, status, outcome });
    else this.respond(request, status, outcome, nowMs);
  }

  /** The response leaves the proxy towards the client. */
  private respond(request: SimRequest, status: number, outcome: RequestOutcome, nowMs: number): void {
    const hop = this.opts.network.clientToProxy;
    const endMs = hop.zero ? nowMs : nowMs + hop.sampleMs();
    this.opts.recorder.requestDone({
      id: request.id,
      client: request.client,
      startMs: request.startMs,
      endMs,
      status,
      outcome,
      servers: request.flow!.path,
    });
    if (this.opts.onDecisions && request.flow!.decisions) this.opts.onDecisions(request.id, request.flow!.decisions);
    this.opts.onFinished(request, endMs);
  }
}
