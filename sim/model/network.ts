// Network and proxy delays: each hop draws its own sample from one shared stream. An
// absent distribution is 0 ms (the model then skips the event); a constant one lets the
// event ride a FIFO lane instead of the heap (see engine/lanes.ts).
import { type Distribution, type Rng, sample } from '../../core/index.ts';
import type { NetworkConfig } from '../../experiments/schema.ts';
import type { Lane } from '../engine/lanes.ts';
import type { Scheduler, SimEvent } from './events.ts';

export interface Hop {
  /** Set when every sample is the same: events after this hop keep their order. */
  readonly lane: Lane<SimEvent> | undefined;
  /** Every sample is 0 (no distribution, or constant 0): callers skip sampling, and the event. */
  readonly zero: boolean;
  sampleMs(): number;
}

export interface Network {
  /** Client → proxy, and proxy → client for the response. */
  clientToProxy: Hop;
  /** Proxy → server, and server → proxy for the response. */
  proxyToServer: Hop;
  connect: Hop;
  proxyOverhead: Hop;
}

export function createNetwork(cfg: NetworkConfig, rng: Rng, scheduler: Scheduler): Network {
  const hop = (d: Distribution | undefined): Hop => {
    if (!d) return { lane: undefined, zero: true, sampleMs: () => 0 };
    if (d.dist === 'constant') {
      const value = d.value;
      return { lane: value > 0 ? scheduler.lane(value) : undefined, zero: value === 0, sampleMs: () => value };
    }
    return { lane: undefined, zero: false, sampleMs: () => sample(d, rng) };
  };
  return {
    clientToProxy: hop(cfg.clientToProxyMs),
    proxyToServer: hop(cfg.proxyToServerMs),
    connect: hop(cfg.connectMs),
    proxyOverhead: hop(cfg.proxyOverheadMs),
  };
}

/** Schedules `event` after a hop's sampled delay (> 0). */
export function scheduleAfterHop(scheduler: Scheduler, hop: Hop, delayMs: number, event: SimEvent): void {
  if (hop.lane) scheduler.scheduleInLane(hop.lane, event);
  else scheduler.schedule(delayMs, event);
}
