// One simulated run: builds servers, network, and one or more balancer instances (each a
// balancer, router, proxy and prober: balancer-instance.ts) from a validated experiment,
// feeds the workload in, and dispatches every event to the part it concerns.
// Stops when the workload is exhausted and the last response has left the proxy.
import type { AttemptOutcome, Balancer, BalancerEvent, Decision, Router } from '../../core/index.ts';
import type { ProxyRules } from '../../core/proxy-rules.ts';
import { STREAM, rngStream } from '../../core/rng.ts';
import { reachOf } from '../../experiments/balancers.ts';
import { Simulator } from '../engine/loop.ts';
import { type Change, type RunConfig, type ServerSpec, initialServerIds } from '../../experiments/schema.ts';
import type { Recorder, ServerSnapshot } from '../../experiments/records.ts';
import { type Arrival, type ArrivalStream, type ClosedLoop, workloadSchedule } from '../../experiments/workload.ts';
import type { Attempt, SimEvent, SimRequest } from './events.ts';
import { FaultInjector } from './faults.ts';
import { BalancerInstance } from './balancer-instance.ts';
import { type Network, createNetwork, scheduleAfterHop } from './network.ts';
import { RESET, type ServerHost, ServerModel } from './server.ts';

/** A balancer's event; with several instances, `balancer` says which one (0-based, as its seed streams balancer-i) reported it. */
export type SimBalancerEvent = BalancerEvent & { balancer?: number };

export class Simulation {
  /** The independent balancer instances (`balancers.count`, default one). */
  readonly instances: BalancerInstance[];
  /**
   * What the balancers reported (ejections, health changes, panic), in order; the first
   * 10,000 only, so memory stays bounded. One balancer's events are the core's as they are.
   */
  readonly balancerEvents: SimBalancerEvent[] = [];
  private readonly sim: Simulator<SimEvent>;
  private readonly streams: (name: string) => () => number;
  private readonly servers = new Map<string, ServerModel>();
  private readonly network: Network;
  private readonly host: ServerHost;
  /** The instance request `id` from `client` reaches. */
  private readonly reach: (id: number, client: number) => number;
  private readonly faults: FaultInjector;
  private readonly openArrivals: ArrivalStream | undefined;
  private readonly closedLoop: ClosedLoop | undefined;
  private pendingArrivals = 0;
  private activeRequests = 0;
  private nextTick = 1;
  /** Client requests sent and answered so far. */
  started = 0;
  finished = 0;
  /** When the last response reached its client. */
  lastResponseMs = 0;

  constructor(
    private readonly cfg: RunConfig,
    private readonly recorder: Recorder,
    /** Hears each request's decision trace; tracing is on only when given (it costs memory per request in flight). */
    onDecisions?: (requestId: number, decisions: readonly Decision[]) => void,
    /** A modelled proxy's request rules (`--proxy haproxy` …); Fulcrum's own when empty. */
    private readonly rules: ProxyRules = {},
  ) {
    this.streams = (label) => rngStream(cfg.seed, label);
    this.sim = new Simulator<SimEvent>((e) => this.handle(e));
    this.network = createNetwork(cfg.network, this.streams('network'), this.sim);
    const sim = this.sim;
    const network = this.network;
    /** Over the server→proxy hop: at once when it takes 0 ms, else as `event`. */
    const backToProxy = (attempt: Attempt, outcome: AttemptOutcome, event: SimEvent): void => {
      const hop = network.proxyToServer;
      const wireMs = hop.zero ? 0 : hop.sampleMs();
      if (wireMs === 0) attempt.request.proxy.attemptEnded(attempt, outcome, sim.nowMs);
      else scheduleAfterHop(sim, hop, wireMs, event);
    };
    this.host = {
      scheduler: sim,
      reply: (attempt, outcome) => {
        attempt.kind = 'attempt-reply';
        attempt.outcome = outcome;
        backToProxy(attempt, outcome, attempt);
      },
      // The attempt may still be queued as its own completion: the reset is an event of its own.
      replyReset: (attempt) => backToProxy(attempt, RESET, { kind: 'reset-reply', attempt }),
    };
    const several = cfg.balancers.count > 1;
    const noteEvent = (e: BalancerEvent, index: number) => {
      if (this.balancerEvents.length < 10_000) this.balancerEvents.push(several ? { ...e, balancer: index } : e);
    };
    this.instances = Array.from({ length: cfg.balancers.count }, (_, index) => new BalancerInstance({
      index, cfg, rules, scheduler: sim, network, servers: this.servers, recorder, onDecisions,
      onBalancerEvent: (e) => noteEvent(e, index),
      onFinished: (request, endMs) => this.requestFinished(request, endMs),
    }));
    this.reach = reachOf(cfg.balancers, cfg.seed);
    this.faults = new FaultInjector(sim, this.servers);

    for (const id of initialServerIds(cfg)) this.addServer(id, undefined, true);
    // Changes first: at equal times a server is added before a fault aimed at it (as live,
    // where every replica exists from the start) and the tie-break keeps that order.
    for (const change of cfg.changes) sim.schedule(change.atMs, { kind: 'change', change });
    this.faults.schedule(cfg.faults);
    sim.schedule(recorder.bucketMs, { kind: 'tick' }, 0);

    const schedule = workloadSchedule(cfg.workload, cfg.seed);
    if (schedule.kind === 'open') {
      this.openArrivals = schedule.arrivals;
      this.scheduleNextOpenArrival();
    } else {
      this.closedLoop = schedule.loop;
      for (const arrival of schedule.loop.start()) this.scheduleArrival(arrival);
    }
    this.stopIfDone();
  }

  /** Runs up to `maxEvents` events; true once the run is over. */
  step(maxEvents: number): boolean {
    this.sim.run(maxEvents);
    return this.sim.done;
  }

  /** The first instance's balancer and router (the only ones with one balancer). */
  get balancer(): Balancer { return this.instances[0].balancer; }
  get router(): Router { return this.instances[0].router; }
  get nowMs(): number { return this.sim.nowMs; }
  get eventsHandled(): number { return this.sim.eventsHandled; }
  /** Server models by id, for tests that inspect queues. */
  server(id: string): ServerModel | undefined { return this.servers.get(id); }

  /**
   * Every backend's state now (removed ones are absent). With several instances: the sum of
   * their in-flight counts, and healthy only while every instance would route to it.
   */
  snapshot(): ServerSnapshot[] {
    const [first, ...others] = this.instances.map((i) => i.balancer.status(this.sim.nowMs));
    return first.map((s, k) => ({
      id: s.id,
      inFlight: others.reduce((sum, o) => sum + o[k].inFlight, s.inFlight),
      healthy: others.every((o) => o[k].routable) && s.routable,
    }));
  }

  private handle(e: SimEvent): void {
    const nowMs = this.sim.nowMs;
    // Hot kinds first: a switch on strings compares case by case.
    switch (e.kind) {
      case 'service-done': return e.server.serviceDone(e, nowMs);
      case 'arrival': return this.clientSends(e, nowMs);
      case 'attempt-reply': return e.request.proxy.attemptEnded(e, e.outcome!, nowMs);
      case 'server-arrive': return e.server.arrive(e);
      case 'proxy-receive': return e.proxy.receive(e, nowMs);
      case 'attempt-timeout': {
        const attempt = e.attempt;
        if (!attempt) return; // settled before the timeout
        e.attempt = undefined;
        return attempt.request.proxy.attemptTimedOut(attempt, nowMs);
      }
      case 'connect': return e.request.proxy.connected(e, nowMs);
      case 'retry': return e.proxy.retry(e, nowMs);
      case 'reset-reply': return e.attempt.request.proxy.attemptEnded(e.attempt, RESET, nowMs);
      case 'cpu-done': return e.job.request.proxy.cpuDone(e.job, nowMs);
      case 'queue-timeout': return e.wait.request.proxy.queueTimedOut(e.wait, nowMs);
      case 'probe': return this.instances[e.balancer].prober!.send(e.serverId);
      case 'probe-arrive': return this.instances[e.probe.balancer].prober!.arrive(e.probe);
      case 'probe-result': return this.instances[e.probe.balancer].prober!.result(e.probe, e.ok, nowMs);
      case 'fault': return this.faults.start(e.fault, nowMs);
      case 'fault-end': return this.faults.end(e.fault);
      case 'restart': return this.faults.restart(e.serverId, e.epoch);
      case 'change': return this.applyChange(e.change, nowMs);
      case 'balancer-deadline': return this.instances[e.balancer].deadline(nowMs);
      case 'tick': return this.tick(nowMs);
    }
  }

  private clientSends(request: SimRequest, nowMs: number): void {
    this.pendingArrivals--;
    this.started++;
    this.activeRequests++;
    if (this.openArrivals) this.scheduleNextOpenArrival();
    request.startMs = nowMs;
    const net = this.network;
    const overheadMs = net.proxyOverhead.zero ? 0 : net.proxyOverhead.sampleMs();
    const delayMs = (net.clientToProxy.zero ? 0 : net.clientToProxy.sampleMs()) + overheadMs;
    if (delayMs === 0) return request.proxy.receive(request, nowMs);
    request.kind = 'proxy-receive';
    // Only the client hop alone keeps a fixed delay (and so a lane).
    if (overheadMs === 0) scheduleAfterHop(this.sim, net.clientToProxy, delayMs, request);
    else this.sim.schedule(delayMs, request);
  }

  private requestFinished(request: SimRequest, endMs: number): void {
    this.activeRequests--;
    this.finished++;
    if (endMs > this.lastResponseMs) this.lastResponseMs = endMs;
    if (this.closedLoop) {
      const next = this.closedLoop.after(request.user!, endMs);
      if (next) this.scheduleArrival(next);
    }
    this.stopIfDone();
  }

  private scheduleNextOpenArrival(): void {
    const next = this.openArrivals!.take();
    if (next) this.scheduleArrival(next);
  }

  /** The request is made now, as its own arrival event; which instance it reaches depends on nothing else. */
  private scheduleArrival(arrival: Arrival): void {
    this.pendingArrivals++;
    const request: SimRequest = {
      kind: 'arrival', id: arrival.id, client: arrival.client, user: arrival.user, startMs: 0,
      proxy: this.instances[this.reach(arrival.id, arrival.client)].proxy,
      flow: undefined, current: undefined, waiting: undefined, method: arrival.method, serviceMs: arrival.serviceMs,
    };
    // An open loop's arrivals come one at a time, each scheduled when the last is handled.
    if (this.openArrivals) this.sim.scheduleStreamAt(arrival.atMs, request);
    else this.sim.scheduleAt(arrival.atMs, request);
  }

  /** Probes and ticks would run forever: the run ends with the workload. */
  private stopIfDone(): void {
    if (this.pendingArrivals === 0 && this.activeRequests === 0) this.sim.stop();
  }

  private tick(nowMs: number): void {
    this.recorder.bucketEnd(nowMs, this.snapshot());
    this.nextTick++;
    this.sim.scheduleAt(this.nextTick * this.recorder.bucketMs, { kind: 'tick' }, 0);
  }

  private applyChange(change: Change, nowMs: number): void {
    switch (change.kind) {
      // HAProxy refuses `add server` on a static algorithm (haproxy-facts): the server never joins.
      case 'add': return this.rules.haproxy?.refusesAddServer ? undefined : this.addServer(change.server, change.weight, false);
      case 'remove': for (const i of this.instances) i.remove(change.server, nowMs); return;
      case 'weight': for (const i of this.instances) i.setWeight(change.server, change.weight); return;
    }
  }

  private addServer(id: string, weight: number | undefined, initial: boolean): void {
    const spec: ServerSpec = { ...this.cfg.servers.template, ...this.cfg.servers.overrides[id] };
    if (weight !== undefined) spec.weight = weight;
    const server = new ServerModel(id, spec, this.streams(STREAM.service(id)), this.streams(STREAM.faults(id)), this.host);
    this.servers.set(id, server);
    for (const i of this.instances) i.add(server, spec.weight, initial);
  }
}
