// One balancer instance: what one proxy process (or one NGINX worker without a shared zone)
// owns — its Balancer with its in-flight counts and outlier state, its Router, the proxy
// model that drives them, its CPU, and its own prober, so N instances really probe N times.
// Each draws from its own streams under instanceSeed(seed, index); the first under the run's
// seed, so one instance draws exactly as the simulator did before instances existed.
import { Balancer, type BalancerEvent, type Decision, Router } from '../../core/index.ts';
import { policyDefinition } from '../../core/policies/index.ts';
import { type ProxyRules, requestRulesOf } from '../../core/proxy-rules.ts';
import { STREAM, instanceSeed, rngStream } from '../../core/rng.ts';
import type { Recorder } from '../../experiments/records.ts';
import type { RunConfig } from '../../experiments/schema.ts';
import type { Simulator } from '../engine/loop.ts';
import type { SimEvent, SimRequest } from './events.ts';
import { Prober } from './health.ts';
import type { Network } from './network.ts';
import { ProxyModel } from './proxy.ts';
import { CpuStation } from './proxy-cpu.ts';
import type { ServerModel } from './server.ts';

export interface InstanceOptions {
  index: number;
  cfg: RunConfig;
  rules: ProxyRules;
  scheduler: Simulator<SimEvent>;
  network: Network;
  /** Every server by id (shared: the instances balance over the same processes). */
  servers: ReadonlyMap<string, ServerModel>;
  recorder: Recorder;
  onDecisions?: (requestId: number, decisions: readonly Decision[]) => void;
  onBalancerEvent(e: BalancerEvent): void;
  onFinished(request: SimRequest, endMs: number): void;
}

export class BalancerInstance {
  readonly balancer: Balancer;
  readonly router: Router;
  readonly proxy: ProxyModel;
  readonly prober: Prober | undefined;
  private readonly serversBySeq: ServerModel[] = [];
  private readonly scheduler: Simulator<SimEvent>;
  private readonly index: number;
  /** When the pending balancer-deadline event fires; Infinity when none is pending. */
  private deadlineArmedMs = Infinity;

  constructor(o: InstanceOptions) {
    const { cfg, scheduler } = o;
    this.index = o.index;
    this.scheduler = scheduler;
    const seed = instanceSeed(cfg.seed, o.index);
    this.balancer = new Balancer({
      balancer: cfg.balancer,
      health: cfg.health,
      rng: rngStream(seed, STREAM.balancer),
      onEvent: (e) => {
        o.onBalancerEvent(e);
        if (e.kind === 'ejected') this.armDeadline(); // only an ejection brings the next deadline forward
      },
    });
    this.router = new Router({
      balancer: this.balancer,
      timeouts: cfg.timeouts,
      rules: requestRulesOf(o.rules, cfg.retry, this.balancer, rngStream(seed, STREAM.router)),
      trace: o.onDecisions !== undefined,
    });
    this.proxy = new ProxyModel({
      scheduler,
      router: this.router,
      network: o.network,
      serversBySeq: this.serversBySeq,
      recorder: o.recorder,
      method: cfg.workload.method,
      hashClients: policyDefinition(cfg.balancer.policy).traits.hashKey,
      connectTimeoutMs: cfg.timeouts.connectMs,
      usualTimeoutMs: Math.min(cfg.timeouts.perTryMs ?? Infinity, cfg.timeouts.requestMs),
      cpu: cfg.network.proxyCpu && new CpuStation(cfg.network.proxyCpu, rngStream(seed, STREAM.proxyCpu), scheduler),
      maxconn: o.rules.haproxy?.maxconn,
      onFinished: o.onFinished,
      onDecisions: o.onDecisions,
    });
    const active = cfg.health?.active;
    this.prober = active
      ? new Prober(active, scheduler, this.balancer, o.servers, o.network, rngStream(seed, STREAM.healthJitter), o.index)
      : undefined;
  }

  add(server: ServerModel, weight: number, initial: boolean): void {
    const backend = this.balancer.add(server.id, { weight, nowMs: this.scheduler.nowMs, initial });
    this.serversBySeq[backend.seq] = server;
    this.prober?.start(server.id);
  }

  remove(id: string, nowMs: number): void {
    if (this.balancer.has(id)) this.balancer.remove(id, nowMs);
  }

  setWeight(id: string, weight: number): void {
    if (this.balancer.has(id)) this.balancer.setWeight(id, weight);
  }

  /** The deadline event fired: time alone may change routing (an ejection ran out). */
  deadline(nowMs: number): void {
    if (nowMs !== this.deadlineArmedMs) return; // superseded by an earlier deadline
    this.deadlineArmedMs = Infinity;
    this.balancer.advance(nowMs);
    this.armDeadline();
  }

  /** Keeps one event pending at the balancer's next deadline. */
  private armDeadline(): void {
    const deadlineMs = this.balancer.nextDeadlineMs();
    if (deadlineMs >= this.deadlineArmedMs) return;
    this.deadlineArmedMs = deadlineMs;
    this.scheduler.scheduleAt(deadlineMs, { kind: 'balancer-deadline', balancer: this.index }, 0);
  }
}
