// Active health checks as real probe events: each probe crosses the network, reaches (or
// fails to reach) the server and races its timeout; the balancer only hears the verdict.
// A crashed server refuses at once; a hung one accepts and never answers, so it times out.
import { type ActiveHealthConfig, type Balancer, type Rng, nextProbeDelayMs } from '../../core/index.ts';
import type { Probe, Scheduler } from './events.ts';
import type { Network } from './network.ts';
import type { ServerModel } from './server.ts';

export class Prober {
  constructor(
    private readonly cfg: ActiveHealthConfig,
    private readonly scheduler: Scheduler,
    private readonly balancer: Balancer,
    private readonly servers: ReadonlyMap<string, ServerModel>,
    private readonly network: Network,
    private readonly jitterRng: Rng,
    /** The balancer instance this prober belongs to: its events come back to it. */
    private readonly balancerIndex = 0,
  ) {}

  /** Probes `serverId` now and then every interval (+ jitter) while the balancer has it. */
  start(serverId: string): void {
    this.scheduler.schedule(0, { kind: 'probe', serverId, balancer: this.balancerIndex });
  }

  send(serverId: string): void {
    if (!this.balancer.has(serverId)) return; // removed: stop probing
    this.scheduler.schedule(nextProbeDelayMs(this.cfg, this.jitterRng, this.balancer.healthState(serverId)), { kind: 'probe', serverId, balancer: this.balancerIndex });
    const probe: Probe = { serverId, balancer: this.balancerIndex, answered: false };
    const server = this.servers.get(serverId)!;
    const connectMs = this.network.connect.sampleMs();
    if (server.crashed) {
      this.scheduler.schedule(connectMs, { kind: 'probe-result', probe, ok: false });
      return;
    }
    this.scheduler.schedule(this.cfg.timeoutMs, { kind: 'probe-result', probe, ok: false });
    this.scheduler.schedule(connectMs + this.network.proxyToServer.sampleMs(), { kind: 'probe-arrive', probe });
  }

  arrive(probe: Probe): void {
    const server = this.servers.get(probe.serverId)!;
    if (server.hung) return; // accepted, never answered: the timeout decides
    this.scheduler.schedule(this.network.proxyToServer.sampleMs(), { kind: 'probe-result', probe, ok: server.answersProbes() });
  }

  result(probe: Probe, ok: boolean, nowMs: number): void {
    if (probe.answered) return;
    probe.answered = true;
    this.balancer.probeResult(probe.serverId, ok, nowMs);
  }
}
