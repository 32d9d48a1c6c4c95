// One backend process: `concurrency` workers in front of a FIFO queue, service times drawn
// from its own stream, and the fault states a real replica can be pushed into.
import { type AttemptOutcome, type Rng, sample } from '../../core/index.ts';
import { Fifo } from '../engine/fifo.ts';
import type { ServerSpec } from '../../experiments/schema.ts';
import type { Attempt, Scheduler } from './events.ts';

export interface ServerHost {
  readonly scheduler: Scheduler;
  /** Sends `outcome` for `attempt` back towards the proxy (the host adds the network hop). */
  reply(attempt: Attempt, outcome: AttemptOutcome): void;
  /** As reply(attempt, RESET), for a job whose completion may still be queued (a crash). */
  replyReset(attempt: Attempt): void;
}

const OK: AttemptOutcome = { kind: 'response', status: 200 };
export const RESET: AttemptOutcome = { kind: 'reset' };

export class ServerModel {
  /** Dead process: connections refused. */
  crashed = false;
  /** Stopped process: accepts connections, answers nothing. */
  hung = false;
  /** Bumped by crash and restart: work accepted in an older epoch is gone. */
  epoch = 0;
  slowFactor = 1;
  errorProbability = 0;
  errorStatus = 503;
  resetProbability = 0;

  private busy = 0;
  private hungSinceMs = 0;
  private readonly queue = new Fifo<Attempt>();
  /** Jobs being served; each knows its slot, so removal is a swap, not a hash lookup. */
  private readonly inService: Attempt[] = [];
  /** Jobs whose service ended while hung, with the service time they still owed at the hang. */
  private parked: Array<{ attempt: Attempt; remainingMs: number }> = [];

  constructor(
    readonly id: string,
    readonly spec: ServerSpec,
    private readonly serviceRng: Rng,
    private readonly faultRng: Rng,
    private readonly host: ServerHost,
  ) {}

  /** A request reaches the process over an established connection. */
  arrive(attempt: Attempt): void {
    if (this.crashed) return this.host.reply(attempt, RESET); // died while the request was on the wire
    // Fault coins are drawn only while a fault is on, so healthy runs never touch the stream.
    if (this.resetProbability > 0 && this.faultRng() < this.resetProbability) return this.host.reply(attempt, RESET);
    if (this.errorProbability > 0 && this.faultRng() < this.errorProbability) {
      return this.host.reply(attempt, { kind: 'response', status: this.errorStatus });
    }
    attempt.epoch = this.epoch;
    if (!this.hung && this.busy < this.spec.concurrency) this.startService(attempt);
    else this.queue.push(attempt);
  }

  serviceDone(attempt: Attempt, nowMs: number): void {
    if (attempt.epoch !== this.epoch) return; // crashed since: already answered with a reset
    if (this.hung) {
      // Frozen mid-service: it still owes what was left when the hang began.
      this.parked.push({ attempt, remainingMs: nowMs - this.hungSinceMs });
      return;
    }
    this.removeInService(attempt);
    this.busy--;
    this.host.reply(attempt, OK);
    this.startQueued();
  }

  crash(): void {
    if (this.crashed) return;
    this.crashed = true;
    this.hung = false;
    this.epoch++;
    const lost = [...this.inService, ...this.queue.drain()];
    this.inService.length = 0;
    this.parked = [];
    this.busy = 0;
    for (const attempt of lost) this.host.replyReset(attempt);
  }

  /** Back up empty, like a container restarted by its restart policy. */
  restart(): void {
    if (!this.crashed) return;
    this.crashed = false;
    this.epoch++;
  }

  hang(nowMs: number): void {
    if (this.crashed || this.hung) return;
    this.hung = true;
    this.hungSinceMs = nowMs;
  }

  resume(): void {
    if (!this.hung) return;
    this.hung = false;
    for (const p of this.parked) {
      p.attempt.kind = 'service-done';
      this.host.scheduler.schedule(p.remainingMs, p.attempt);
    }
    this.parked = [];
    this.startQueued();
  }

  /** Health endpoints answer outside the worker pool; only a dead or stopped process fails them. */
  answersProbes(): boolean { return !this.crashed && !this.hung; }

  get queued(): number { return this.queue.length; }

  private startService(attempt: Attempt): void {
    this.busy++;
    attempt.slot = this.inService.length;
    this.inService.push(attempt);
    const serviceMs = (attempt.request.serviceMs ?? sample(this.spec.serviceTimeMs, this.serviceRng)) * this.slowFactor;
    attempt.kind = 'service-done';
    this.host.scheduler.schedule(serviceMs, attempt);
  }

  private removeInService(attempt: Attempt): void {
    const last = this.inService.pop()!;
    if (last !== attempt) {
      this.inService[attempt.slot] = last;
      last.slot = attempt.slot;
    }
  }

  private startQueued(): void {
    while (!this.hung && this.busy < this.spec.concurrency && this.queue.length > 0) {
      this.startService(this.queue.shift()!);
    }
  }
}
