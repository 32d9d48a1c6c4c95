// The proxy's own CPU as a station: `workers` parallel servers in front of one FIFO queue
// (Node's single event loop; HAProxy's nbthread threads; NGINX's worker processes). Each
// client request needs CPU on the way in, each retry attempt again, each response on the
// way out. Without it the simulated proxy is infinitely fast, and its overload and the
// tail it adds under load are missed. A job kind that costs nothing skips the queue
// entirely (a nested call, see engine/loop.ts's zero-delay rule).
import { type Distribution, type Rng, sample } from '../../core/index.ts';
import type { ProxyCpuConfig } from '../../experiments/schema.ts';
import type { RequestOutcome } from '../../experiments/records.ts';
import { Fifo } from '../engine/fifo.ts';
import type { Lane } from '../engine/lanes.ts';
import type { Scheduler, SimEvent, SimRequest } from './events.ts';

/** What the proxy does once the CPU is done with a job. */
export type CpuJob =
  | { kind: 'receive'; request: SimRequest }
  | { kind: 'retry'; request: SimRequest }
  | { kind: 'respond'; request: SimRequest; status: number; outcome: RequestOutcome };

/** One job kind's CPU cost: a constant cost rides a FIFO lane (done in start order). */
interface Cost {
  readonly lane: Lane<SimEvent> | undefined;
  sampleMs(): number;
}

export class CpuStation {
  private busy = 0;
  private readonly queue = new Fifo<CpuJob>();
  private readonly costs: Record<CpuJob['kind'], Cost | undefined>;

  constructor(private readonly cfg: ProxyCpuConfig, rng: Rng, private readonly scheduler: Scheduler) {
    const cost = (...parts: Array<Distribution | undefined>): Cost | undefined => {
      const ds = parts.filter((d): d is Distribution => d !== undefined && !(d.dist === 'constant' && d.value === 0));
      if (ds.length === 0) return undefined;
      if (ds.every((d) => d.dist === 'constant')) {
        const value = ds.reduce((sum, d) => sum + (d.dist === 'constant' ? d.value : 0), 0);
        return { lane: scheduler.lane(value), sampleMs: () => value };
      }
      return { lane: undefined, sampleMs: () => ds.reduce((sum, d) => sum + sample(d, rng), 0) };
    };
    // A retried attempt costs about a whole request by default: its failed answer is read,
    // then the request is routed and sent again (npm run calibrate measured this).
    this.costs = {
      receive: cost(cfg.requestMs),
      retry: cfg.retryMs ? cost(cfg.retryMs) : cost(cfg.requestMs, cfg.responseMs),
      respond: cost(cfg.responseMs),
    };
  }

  /** False when jobs of this kind cost nothing: the caller goes on at once. */
  charges(kind: CpuJob['kind']): boolean { return this.costs[kind] !== undefined; }

  /** Queues `job` for a worker (call only when charges(job.kind)). */
  submit(job: CpuJob): void {
    if (this.busy < this.cfg.workers) this.start(job);
    else this.queue.push(job);
  }

  /** A worker finished `job`: it takes the next queued one. */
  done(): void {
    this.busy--;
    const next = this.queue.shift();
    if (next) this.start(next);
  }

  /** Jobs waiting for a worker. */
  get queued(): number { return this.queue.length; }

  private start(job: CpuJob): void {
    this.busy++;
    const cost = this.costs[job.kind]!;
    const event: SimEvent = { kind: 'cpu-done', job };
    if (cost.lane) this.scheduler.scheduleInLane(cost.lane, event);
    else this.scheduler.schedule(cost.sampleMs(), event);
  }
}
