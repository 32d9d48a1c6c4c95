// One simulated run: builds servers, network, balancer, router and prober from a validated
// experiment, feeds the workload in, and dispatches every event to the part it concerns.
// Stops when the workload is exhausted and the last response has left the proxy.
import { Balancer, type BalancerEvent, type Decision, Router } from '../../core/index.ts';
import { policyDefinition } from '../../core/policies/index.ts';
import type { ProxyRules } from '../../core/proxy-rules.ts';
import { STREAM, rngStream } from '../../core/rng.ts';
import { Simulator } from '../engine/loop.ts';
import { type Change, type RunConfig, type ServerSpec, initialServerIds } from '../../experiments/schema.ts';
import type { Recorder, ServerSnapshot } from '../../experiments/records.ts';
import { type Arrival, type ArrivalStream, type ClosedLoop, workloadSchedule } from '../../experiments/workload.ts';
import type { SimEvent, SimRequest } from './events.ts';
import { FaultInjector } from './faults.ts';
import { Prober } from './health.ts';
import { type Network, createNetwork, scheduleAfterHop } from './network.ts';
import { ProxyModel } from './proxy.ts';
import { CpuStation } from './proxy-cpu.ts';
import { type ServerHost, ServerModel } from './server.ts';

export class Simulation {
  readonly balancer: Balancer;
  readonly router: Router;
  /** What the balancer reported (ejections, health changes, panic), in order; the first 10,000 only, so memory stays bounded. */
  readonly balancerEvents: BalancerEvent[] = [];
  private readonly sim: Simulator<SimEvent>;
  private readonly streams: (name: string) => () => number;
  private readonly servers = new Map<string, ServerModel>();
  private readonly serversBySeq: ServerModel[] = [];
  private readonly network: Network;
  private readonly host: ServerHost;
  private readonly proxy: ProxyModel;
  private readonly prober: Prober | undefined;
  private readonly faults: FaultInjector;
  private readonly openArrivals: ArrivalStream | undefined;
  private readonly closedLoop: ClosedLoop | undefined;
  private pendingArrivals = 0;
  private activeRequests = 0;
  private nextTick = 1;
  /** When the pending balancer-deadline event fires; Infinity when none is pending. */
  private deadlineArmedMs = Infinity;
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
    this.balancer = new Balancer({
      balancer: cfg.balancer,
      health: cfg.health,
      rng: this.streams(STREAM.balancer),
      onEvent: (e) => {
        if (this.balancerEvents.length < 10_000) this.balancerEvents.push(e);
        if (e.kind === 'ejected') this.armBalancerDeadline(); // only an ejection brings the next deadline forward
      },
    });
    this.router = new Router({
      balancer: this.balancer, retry: cfg.retry, timeouts: cfg.timeouts, rng: this.streams(STREAM.router), trace: onDecisions !== undefined, haproxy: rules.haproxy,
      caddy: rules.caddy,
    });
    this.network = createNetwork(cfg.network, this.streams('network'), this.sim);
    const sim = this.sim;
    const network = this.network;
    this.host = {
      scheduler: sim,
      reply: (attempt, outcome) => {
        const wireMs = network.proxyToServer.sampleMs();
        if (wireMs === 0) this.proxy.attemptEnded(attempt, outcome, sim.nowMs);
        else scheduleAfterHop(sim, network.proxyToServer, wireMs, { kind: 'attempt-reply', attempt, outcome });
      },
    };
    this.proxy = new ProxyModel({
      scheduler: sim,
      router: this.router,
      network,
      serversBySeq: this.serversBySeq,
      recorder,
      method: cfg.workload.method,
      hashClients: policyDefinition(cfg.balancer.policy).traits.hashKey,
      connectTimeoutMs: cfg.timeouts.connectMs,
      usualTimeoutMs: Math.min(cfg.timeouts.perTryMs ?? Infinity, cfg.timeouts.requestMs),
      cpu: cfg.network.proxyCpu && new CpuStation(cfg.network.proxyCpu, this.streams(STREAM.proxyCpu), sim),
      maxconn: rules.haproxy?.maxconn,
      onFinished: (request, endMs) => this.requestFinished(request, endMs),
      onDecisions,
    });
    const active = cfg.health?.active;
    this.prober = active
      ? new Prober(active, sim, this.balancer, this.servers, network, this.streams(STREAM.healthJitter))
      : undefined;
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

  get nowMs(): number { return this.sim.nowMs; }
  get eventsHandled(): number { return this.sim.eventsHandled; }
  /** Server models by id, for tests that inspect queues. */
  server(id: string): ServerModel | undefined { return this.servers.get(id); }

  /** Every backend's state now (removed ones are absent). */
  snapshot(): ServerSnapshot[] {
    return this.balancer.status(this.sim.nowMs).map((s) => ({ id: s.id, inFlight: s.inFlight, healthy: s.routable }));
  }

  private handle(e: SimEvent): void {
    const nowMs = this.sim.nowMs;
    // Hot kinds first: a switch on strings compares case by case.
    switch (e.kind) {
      case 'service-done': return e.attempt.server.serviceDone(e.attempt, e.epoch, nowMs);
      case 'attempt-reply': return this.proxy.attemptEnded(e.attempt, e.outcome, nowMs);
      case 'server-arrive': return e.attempt.server.arrive(e.attempt);
      case 'arrival': return this.clientSends(e.arrival, nowMs);
      case 'proxy-receive': return this.proxy.receive(e.request, nowMs);
      case 'attempt-timeout': return this.proxy.attemptTimedOut(e, nowMs);
      case 'connect': return this.proxy.connected(e.attempt, nowMs);
      case 'retry': return this.proxy.retry(e.request, nowMs);
      case 'cpu-done': return this.proxy.cpuDone(e.job, nowMs);
      case 'queue-timeout': return this.proxy.queueTimedOut(e.wait, nowMs);
      case 'probe': return this.prober!.send(e.serverId);
      case 'probe-arrive': return this.prober!.arrive(e.probe);
      case 'probe-result': return this.prober!.result(e.probe, e.ok, nowMs);
      case 'fault': return this.faults.start(e.fault, nowMs);
      case 'fault-end': return this.faults.end(e.fault);
      case 'restart': return this.faults.restart(e.serverId, e.epoch);
      case 'change': return this.applyChange(e.change, nowMs);
      case 'balancer-deadline': return this.balancerDeadline(nowMs);
      case 'tick': return this.tick(nowMs);
    }
  }

  /** Keeps one event pending at the balancer's next deadline. */
  private armBalancerDeadline(): void {
    const deadlineMs = this.balancer.nextDeadlineMs();
    if (deadlineMs >= this.deadlineArmedMs) return;
    this.deadlineArmedMs = deadlineMs;
    this.sim.scheduleAt(deadlineMs, { kind: 'balancer-deadline' }, 0);
  }

  private balancerDeadline(nowMs: number): void {
    if (nowMs !== this.deadlineArmedMs) return; // superseded by an earlier deadline
    this.deadlineArmedMs = Infinity;
    this.balancer.advance(nowMs);
    this.armBalancerDeadline();
  }

  private clientSends(arrival: Arrival, nowMs: number): void {
    this.pendingArrivals--;
    this.started++;
    this.activeRequests++;
    if (this.openArrivals) this.scheduleNextOpenArrival();
    const request: SimRequest = {
      id: arrival.id, client: arrival.client, user: arrival.user, startMs: nowMs, flow: undefined, current: undefined, waiting: undefined,
      method: arrival.method, serviceMs: arrival.serviceMs,
    };
    const net = this.network;
    const overheadMs = net.proxyOverhead.sampleMs();
    const delayMs = net.clientToProxy.sampleMs() + overheadMs;
    if (delayMs === 0) return this.proxy.receive(request, nowMs);
    const event: SimEvent = { kind: 'proxy-receive', request };
    // Only the client hop alone keeps a fixed delay (and so a lane).
    if (overheadMs === 0) scheduleAfterHop(this.sim, net.clientToProxy, delayMs, event);
    else this.sim.schedule(delayMs, event);
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

  private scheduleArrival(arrival: Arrival): void {
    this.pendingArrivals++;
    this.sim.scheduleAt(arrival.atMs, { kind: 'arrival', arrival });
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
      case 'remove': if (this.balancer.has(change.server)) this.balancer.remove(change.server, nowMs); return;
      case 'weight': if (this.balancer.has(change.server)) this.balancer.setWeight(change.server, change.weight); return;
    }
  }

  private addServer(id: string, weight: number | undefined, initial: boolean): void {
    const spec: ServerSpec = { ...this.cfg.servers.template, ...this.cfg.servers.overrides[id] };
    if (weight !== undefined) spec.weight = weight;
    const server = new ServerModel(id, spec, this.streams(STREAM.service(id)), this.streams(STREAM.faults(id)), this.host);
    this.servers.set(id, server);
    const backend = this.balancer.add(id, { weight: spec.weight, nowMs: this.sim.nowMs, initial });
    this.serversBySeq[backend.seq] = server;
    this.prober?.start(id);
  }
}
